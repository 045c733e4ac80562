"""Putting messages into the durable outbox; the sender drains it under Telegram's limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from bot.core.db import Database
from bot.core.models import User, utcnow
from bot.outbox.models import OutboxMessage

PENDING, CLAIMED, SENT, FAILED, DROPPED = "pending", "claimed", "sent", "failed", "dropped"


def enqueue(
    session: Session,
    *,
    chat_id: int,
    text: str | None = None,
    method: str = "sendMessage",
    reply_markup: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    **params: Any,
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction.

    ``text`` is HTML (already escaped by the caller). ``reply_markup`` is the Bot API's JSON shape
    (e.g. ``{"inline_keyboard": [[{"text": ..., "callback_data": ...}]]}``). A ``dedupe_key`` makes
    the call idempotent: a second call with the same key returns the row already queued.
    """
    if dedupe_key is not None:
        existing = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        if existing is not None:
            return existing
    payload: dict[str, Any] = dict(params)
    if text is not None:
        payload["text"] = text
        payload.setdefault("parse_mode", "HTML")
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    row = OutboxMessage(
        chat_id=chat_id,
        method=method,
        payload=payload,
        not_before=not_before or utcnow(),
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return row
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process queued the same key between our check and insert.
        return session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        ).one()
    return row


EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
SUPERSEDED_REASON = "superseded by a newer edit of the same message"


def enqueue_edit(
    session: Session,
    *,
    of: OutboxMessage,
    text: str | None = None,
    method: str = "editMessageText",
    reply_markup: dict[str, Any] | None = None,
    **params: Any,
) -> OutboxMessage:
    """Queue an edit of the message that row ``of`` sends (or sent): Telegram's message id is
    filled in when the edit goes out, from ``of`` once it is sent. The edit carries the whole
    new content, so an older edit of the same message still waiting is dropped: only the
    latest state is sent. Without ``reply_markup`` an edit removes the message's buttons, as
    on Telegram."""
    if method not in EDIT_METHODS:
        raise ValueError(f"{method} is not an edit")
    session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.edit_of == of.id, OutboxMessage.status == PENDING)
        .values(status=DROPPED, last_error=SUPERSEDED_REASON)
        .execution_options(synchronize_session=False)
    )
    row = enqueue(
        session, chat_id=of.chat_id, text=text, method=method, reply_markup=reply_markup, **params
    )
    row.edit_of = of.id
    session.add(row)
    session.flush()
    return row


def edit_target(session: Session, row: OutboxMessage) -> int | str:
    """The message id an edit row must name: an int when its message was sent, "wait" while
    that message is still to be sent, "gone" when it never will be (failed, dropped, erased)."""
    target = session.get(OutboxMessage, row.edit_of) if row.edit_of is not None else None
    if target is None:
        return "gone"
    if target.status == SENT:
        return target.message_id if target.message_id is not None else "gone"
    if target.status in (PENDING, CLAIMED):
        return "wait"
    return "gone"


# --- claiming and settling rows (used by the sender in handlers/outbox_delivery.py) ---------


# A claim not renewed for this long belongs to a process that died mid-batch; another sender
# takes the row over. A live sender renews the claims it holds every CLAIM_RENEW, however long
# its sends take (handlers/outbox_delivery.py), so the TTL only has to outlast a renewal missed
# under load, and the rows of a killed instance go out about half a minute late, not minutes.
CLAIM_TTL = timedelta(seconds=30)
CLAIM_RENEW = timedelta(seconds=10)
CHAT_GAP = timedelta(seconds=1)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
UNREACHABLE_REASON = "user unreachable: blocked the bot (403)"


def claim_due(
    session: Session, *, worker_id: str, limit: int, now: datetime | None = None
) -> list[OutboxMessage]:
    """Atomically take up to ``limit`` due rows for this worker and return them.

    Due means pending with ``not_before <= now``, or claimed by a sender whose claim went stale
    (it crashed). Each call gets its own claim token, so two senders (or two calls of one) never
    get the same row: PostgreSQL skips rows another transaction has locked (FOR UPDATE SKIP
    LOCKED), and on SQLite the single UPDATE statement runs under the database's write lock.
    The caller's session commits the claim; rows for users who blocked the bot are dropped.
    """
    now = now or utcnow()
    token = f"{worker_id[:60]}:{uuid.uuid4().hex[:16]}"
    due = or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now),
        and_(OutboxMessage.status == CLAIMED, OutboxMessage.claimed_at < now - CLAIM_TTL),
    )
    # One message at a time per chat, oldest first, across every sender: a row waits while
    # its chat has a message in flight or an older one due, so a citizen reads them in order,
    # or had one sent less than CHAT_GAP ago (Telegram's message a second per chat, kept
    # whichever instance sends the next one).
    other = aliased(OutboxMessage)
    ahead_in_chat = (
        select(other.id)
        .where(
            other.chat_id == OutboxMessage.chat_id,
            other.id != OutboxMessage.id,
            or_(
                and_(other.status == CLAIMED, other.claimed_at >= now - CLAIM_TTL),
                and_(
                    other.status == PENDING,
                    other.not_before <= now,
                    other.id < OutboxMessage.id,
                ),
                and_(other.status == SENT, other.sent_at > now - CHAT_GAP),
            ),
        )
        .exists()
    )
    pick = (
        select(OutboxMessage.id)
        .where(due, ~ahead_in_chat)
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the picked rows for this transaction, skipping rows another sender holds. A
        # separate statement, because PostgreSQL may re-run a LIMIT subquery inside an UPDATE.
        ids = list(session.exec(pick.with_for_update(skip_locked=True)).all())
        if not ids:
            return []
        target = OutboxMessage.id.in_(ids)
    else:
        # One statement under SQLite's write lock: nobody can claim in between.
        target = OutboxMessage.id.in_(pick.scalar_subquery())
    # ``due`` is repeated on the UPDATE itself, so a row claimed by someone else in the
    # meantime (whatever the isolation level) no longer matches and is left alone.
    session.exec(
        update(OutboxMessage)
        .where(target, due)
        .values(status=CLAIMED, claimed_by=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.claimed_by == token, OutboxMessage.status == CLAIMED)
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).all()
    )
    if not rows:
        return rows
    unreachable = set(
        session.exec(
            select(User.telegram_id).where(
                User.telegram_id.in_({row.chat_id for row in rows}),
                User.unreachable_since.is_not(None),
            )
        ).all()
    )
    if not unreachable:
        return rows
    kept = []
    for row in rows:
        if row.chat_id in unreachable:
            _settle(session, row, status=DROPPED, last_error=UNREACHABLE_REASON)
        else:
            kept.append(row)
    return kept


def renew_claim(session: Session, token: str, *, now: datetime | None = None) -> int:
    """A live sender's claim (``claimed_by`` of the rows it took together) made fresh again;
    returns how many of them it still holds."""
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == token, OutboxMessage.status == CLAIMED)
        .values(claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _settle(session: Session, row: OutboxMessage, **values: Any) -> bool:
    """Update a row this worker still holds; False when its claim was taken over meanwhile."""
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == row.claimed_by)
        .values(claimed_by=None, claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(
    session: Session,
    row: OutboxMessage,
    *,
    now: datetime | None = None,
    message_id: int | None = None,
) -> bool:
    return _settle(
        session,
        row,
        status=SENT,
        sent_at=now or utcnow(),
        attempts=row.attempts + 1,
        message_id=message_id,
    )


def record_sent(
    db: Database, row: OutboxMessage, *, now: datetime | None = None, message_id: int | None = None
) -> bool:
    """mark_sent as the sender does it, right after Telegram accepted the row: one autocommit
    statement on the bookkeeping engine (bot/core/db.py), which does not wait for the disk. A
    sender killed between Telegram's answer and this record has the row sent again once its
    claim expires, so the moment is kept as short as one round trip. (A database crash could
    forget the record too: the row would then be sent again after the restart.)"""
    with db.bookkeeping.begin() as conn:
        result = conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == row.claimed_by)
            .values(
                claimed_by=None, claimed_at=None, status=SENT, sent_at=now or utcnow(),
                attempts=row.attempts + 1, message_id=message_id,
            )
        )
    return result.rowcount == 1


def release(session: Session, row: OutboxMessage, *, not_before: datetime) -> bool:
    """Give a row back untried (the chat's rate window is full, or Telegram said 429)."""
    return _settle(session, row, status=PENDING, not_before=not_before)


def backoff_for(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour: transient trouble gets time to clear."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def mark_retry(
    session: Session,
    row: OutboxMessage,
    *,
    error: str,
    now: datetime | None = None,
    backoff: timedelta | None = None,
) -> str:
    """Count a failed attempt: back to pending after a backoff, or ``failed`` after the bound.

    Returns the row's new status.
    """
    now = now or utcnow()
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _settle(session, row, status=FAILED, attempts=attempts, last_error=error[:500])
        return FAILED
    wait = backoff if backoff is not None else backoff_for(attempts)
    _settle(
        session,
        row,
        status=PENDING,
        attempts=attempts,
        not_before=now + wait,
        last_error=error[:500],
    )
    return PENDING


def mark_failed(session: Session, row: OutboxMessage, *, error: str) -> bool:
    """A permanent failure (Telegram refused the request itself): no point retrying."""
    return _settle(session, row, status=FAILED, attempts=row.attempts + 1, last_error=error[:500])


def mark_unreachable(
    session: Session, row: OutboxMessage, *, now: datetime | None = None
) -> int:
    """The chat's user blocked the bot (403): remember it and drop everything queued for them.

    Returns how many other queued rows were dropped. The user becomes reachable again when they
    next write to the bot (bot.people.users.user_language clears the mark).
    """
    now = now or utcnow()
    _settle(session, row, status=DROPPED, attempts=row.attempts + 1, last_error=UNREACHABLE_REASON)
    user = session.get(User, row.chat_id)
    if user is not None and user.unreachable_since is None:
        user.unreachable_since = now
        session.add(user)
    elif user is None and row.chat_id > 0:
        session.add(User(telegram_id=row.chat_id, unreachable_since=now))
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == row.chat_id, OutboxMessage.status == PENDING)
        .values(status=DROPPED, last_error=UNREACHABLE_REASON)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def move_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its queued rows follow it to the new chat id."""
    session.exec(
        update(OutboxMessage)
        .where(
            OutboxMessage.chat_id == old_chat_id,
            OutboxMessage.status.in_((PENDING, CLAIMED)),
        )
        .values(chat_id=new_chat_id)
        .execution_options(synchronize_session=False)
    )


def outbox_counts(session: Session) -> dict[str, int]:
    """How many rows are in each status, for the admins' /outbox."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def recent_failures(session: Session, *, limit: int = 10) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_((FAILED, DROPPED)))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        ).all()
    )
