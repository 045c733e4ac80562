"""The handled-update record (the table processed_updates) and every statement on it: taking
an update (with its flood count, in one round trip), finishing it, taking over orphans, the
reply journal's and the webhook answer's columns, pruning."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    or_,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from bot.core.db import Database
from bot.core.models import AwareDateTime, UtcDateTime, utcnow
from bot.webhook.flood import clock_minute, flood_verdict, verdict_for
from bot.webhook.liveness import LIVE_KEYS

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours, so a redelivery can only come within that;
# twice that is a safe margin for the record of handled ids.
PROCESSED_KEEP = timedelta(hours=48)
# A webhook update taken this long ago and not finished is presumed orphaned (its process
# died) and is taken again by whichever instance looks first. Handling takes well under a
# second; a lease far above that keeps a slow but alive instance from being overtaken. On
# PostgreSQL a dead instance is seen sooner, by its lock (Liveness); the lease is for SQLite
# (one process: its own orphans after a restart) and the last resort.
LEASE = timedelta(seconds=20)
# Application.bot_data key: {update id: flood verdict} of the updates the webhook server took
# and is handling, so the guard in handlers/guards.py neither claims nor counts them again.
TAKEN_BY_SERVER = "updates_taken_by_server"


class ProcessedUpdate(SQLModel, table=True):
    """One row per update some process has taken; the primary key makes taking it atomic.

    In webhook mode the row also keeps the update itself until it is finished, so an update
    accepted by an instance that then dies is handled by another one (see retake_orphans).
    """

    __tablename__ = "processed_updates"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(  # when taken (again)
        default_factory=utcnow, sa_column=UtcDateTime(nullable=False, index=True)
    )
    finished_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # What handling it has sent so far (bot/webhook/journal.py), dropped with the payload when
    # finished.
    replies: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The instance handling it (Liveness.key): once that instance is gone, it is taken over at
    # once instead of after the lease.
    taken_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The message its webhook answer carried (bot/webhook/answer.py, WebhookAnswer): given again if
    # Telegram sends the update again. Kept with the row (PROCESSED_KEEP).
    answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # What the update said (update_fingerprint): a redelivery says the same, an update that only
    # reuses the id does not, and is handled as new.
    fingerprint: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))


def update_fingerprint(update: dict[str, Any]) -> str:
    """A short digest of an update's content, its id left out.

    Telegram redelivers an update with the same content; an id met again with other content is
    a different update that merely reuses the number (an emulator restarted on the same
    database, Telegram restarting its numbering after a quiet week, a database moved to another
    bot), which must be answered, not dropped. The webhook digests the JSON as received, polling
    the update as python-telegram-bot reads it; each mode meets its own redeliveries only.
    """
    content = {key: value for key, value in update.items() if key != "update_id"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def _reused(update_id: int) -> None:
    log.warning(
        "update %s: this id was handled before with other content; handling it as a new update "
        "(update ids restarted: a restarted emulator, Telegram renumbering, or another bot)",
        update_id,
    )


def take_update(
    db: Database,
    update_id: int,
    payload: dict[str, Any],
    *,
    user_id: int | None = None,
    flood_limit: int = 0,
    now: datetime | None = None,
    taken_by: int | None = None,
) -> str:
    """The webhook's claim, storing the update: "duplicate" when some process already took
    it, else the user's flood verdict (see admit_update), counted in the same transaction.
    ``taken_by``: the taking instance's Liveness.key."""
    return admit_update(
        db, update_id, user_id=user_id, flood_limit=flood_limit, now=now, payload=payload,
        taken_by=taken_by, fingerprint=update_fingerprint(payload),
    )


def finish_updates(
    db: Database, update_ids: Iterable[int], *, now: datetime | None = None
) -> None:
    """Mark handled updates finished (and drop their stored copy), several in one statement."""
    ids = list(update_ids)
    if not ids:
        return
    # The bookkeeping engine (bot/core/db.py): autocommit, not waiting for the disk.
    with db.bookkeeping.begin() as conn:
        conn.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id.in_(ids))
            .values(finished_at=now or utcnow(), payload=None, replies=None)
        )


@dataclass
class Orphan:
    """An update taken over: the update as Telegram sent it, and what was already sent for it
    (bot/webhook/journal.py)."""

    payload: dict[str, Any]
    replies: dict[str, str]


def retake_orphans(
    db: Database,
    *,
    now: datetime | None = None,
    limit: int = 50,
    taken_by: int | None = None,
    exclude: Collection[int] = (),
    only: int | None = None,
) -> list[Orphan]:
    """Updates whose instance is gone, now taken by the caller (``taken_by``: its key).

    Gone means, on PostgreSQL, that the instance which took the update no longer holds its
    Liveness lock (the database released it with the dead process's connection), so its
    updates are taken over within a look or two; an update waiting in a live instance is never
    taken from it, however long it waits. Rows without a taker (SQLite, where the one process
    takes over its own after a restart) are gone once taken more than LEASE ago. ``exclude``:
    updates the caller has in hand itself; ``only``: that update, if it is orphaned (Telegram
    sent it again). The conditional UPDATE, which checks the lock again,
    is the atomic step: of two instances retaking one row, only one sees it change. Oldest
    first, so a chat's updates keep their order.
    """
    now = now or utcnow()
    expired = ProcessedUpdate.processed_at < now - LEASE
    if db.is_postgres:
        gone = or_(
            # (NOT IN an empty set is true even for NULL, hence both tests.)
            and_(
                ProcessedUpdate.taken_by.is_not(None),
                ProcessedUpdate.taken_by.not_in(LIVE_KEYS),
            ),
            and_(ProcessedUpdate.taken_by.is_(None), expired),
        )
    else:
        gone = expired
    orphaned = and_(
        ProcessedUpdate.finished_at.is_(None),
        ProcessedUpdate.payload.is_not(None),
        ProcessedUpdate.update_id.not_in(list(exclude)),
        gone,
    )
    if only is not None:
        orphaned = and_(orphaned, ProcessedUpdate.update_id == only)
    taken: list[Orphan] = []
    with db.session() as session:
        candidates = session.exec(
            select(ProcessedUpdate.update_id)
            .where(orphaned)
            .order_by(ProcessedUpdate.update_id)
            .limit(limit)
        ).all()
    for update_id in candidates:
        with db.session() as session:
            changed = session.exec(
                update(ProcessedUpdate)
                .where(ProcessedUpdate.update_id == update_id, orphaned)
                .values(processed_at=now, taken_by=taken_by)
            ).rowcount
            if changed == 1:
                row = session.get(ProcessedUpdate, update_id)
                taken.append(Orphan(dict(row.payload), read_replies(row.replies)))
    return taken


def admit_update(
    db: Database,
    update_id: int | None,
    *,
    user_id: int | None,
    flood_limit: int,
    now: datetime | None = None,
    payload: dict[str, Any] | None = None,
    taken_by: int | None = None,
    fingerprint: str | None = None,
) -> str:
    """Both guards at once: "duplicate", or the flood verdict for the user.

    ``update_id`` None: the update was already taken (by the webhook, take_update); only
    count it for flood control. ``fingerprint`` (update_fingerprint): an id already taken for
    other content is taken again, as a new update; without one, a known id is a duplicate.

    Insert-first on the primary key is atomic across processes: of two concurrent inserts of one
    id, one wins and the other sees a conflict. On PostgreSQL this is one statement on the
    bookkeeping engine (autocommit, commit not waiting for the disk; see bot/core/db.py): after a
    database crash the last fraction of a second of ids could be forgotten, and an update
    redelivered in exactly that window handled again, which is cheaper than a disk flush and
    four more round trips per update.
    """
    now = now or utcnow()
    if db.is_postgres:
        return _admit_postgres(
            db, update_id, user_id, flood_limit, now, payload, taken_by, fingerprint
        )
    try:
        with db.session() as session:
            if update_id is not None:
                known = session.get(ProcessedUpdate, update_id)
                if known is None:
                    session.add(
                        ProcessedUpdate(
                            update_id=update_id, processed_at=now, payload=payload,
                            taken_by=taken_by, fingerprint=fingerprint,
                        )
                    )
                elif fingerprint is None or known.fingerprint == fingerprint:
                    return "duplicate"
                else:
                    _reused(update_id)
                    known.processed_at, known.finished_at = now, None
                    known.payload, known.replies, known.answer = payload, None, None
                    known.taken_by, known.fingerprint = taken_by, fingerprint
                session.flush()
            if user_id is None:
                return "ok"
            return flood_verdict(session, user_id=user_id, limit=flood_limit, now=now)
    except IntegrityError:
        return "duplicate"


# The claim, the user's count for this minute and their count for the previous one, in one
# round trip. Data-modifying CTEs always run; the count is only taken when the claim was won
# (or there is no claim to make), and the final SELECT sees flood_counts as it was before.
_ADMIT_SQL = text(
    """
    WITH taken AS (
        INSERT INTO processed_updates (update_id, processed_at, payload, taken_by, fingerprint)
        SELECT :update_id, CAST(:now AS TIMESTAMPTZ), CAST(:payload AS JSON), :taken_by,
               :fingerprint
        WHERE :claim
        ON CONFLICT (update_id) DO UPDATE SET
            processed_at = EXCLUDED.processed_at, finished_at = NULL,
            payload = EXCLUDED.payload, replies = NULL, answer = NULL,
            taken_by = EXCLUDED.taken_by, fingerprint = EXCLUDED.fingerprint
        WHERE EXCLUDED.fingerprint IS NOT NULL
          AND processed_updates.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint
        RETURNING update_id, NOT (xmax = 0) AS reused
    ), counted AS (
        INSERT INTO flood_counts (user_id, minute, count)
        SELECT :user_id, :minute, 1
        WHERE :count_it AND (NOT :claim OR EXISTS (SELECT 1 FROM taken))
        ON CONFLICT (user_id, minute) DO UPDATE SET count = flood_counts.count + 1
        RETURNING count
    )
    SELECT
        (SELECT count(*) FROM taken) AS won,
        (SELECT bool_or(reused) FROM taken) AS reused,
        (SELECT count FROM counted) AS count,
        (SELECT count FROM flood_counts
          WHERE user_id = :user_id AND minute = :minute - 1) AS previous
    """
).bindparams(
    bindparam("update_id", type_=BigInteger),
    bindparam("user_id", type_=BigInteger),
    bindparam("taken_by", type_=BigInteger),
    bindparam("minute", type_=Integer),
    bindparam("now", type_=AwareDateTime()),
    bindparam("payload", type_=JSON),
    bindparam("claim", type_=Boolean),
    bindparam("count_it", type_=Boolean),
    bindparam("fingerprint", type_=String),
)


def _admit_postgres(
    db: Database,
    update_id: int | None,
    user_id: int | None,
    flood_limit: int,
    now: datetime,
    payload: dict[str, Any] | None,
    taken_by: int | None,
    fingerprint: str | None,
) -> str:
    claim = update_id is not None
    count_it = user_id is not None and flood_limit > 0
    if not claim and not count_it:
        return "ok"
    with db.bookkeeping.connect() as conn:
        won, reused, count, previous = conn.execute(
            _ADMIT_SQL,
            {
                "update_id": update_id if claim else 0,
                "user_id": user_id if count_it else 0,
                "minute": clock_minute(now),
                "now": now,
                "payload": payload,
                "taken_by": taken_by,
                "claim": claim,
                "count_it": count_it,
                "fingerprint": fingerprint,
            },
        ).one()
    if claim and not won:
        return "duplicate"
    if reused:
        _reused(update_id)
    if not count_it:
        return "ok"
    return verdict_for(count, previous, flood_limit)


def prune_processed(session: Session, *, now: datetime | None = None) -> int:
    """Forget handled update ids older than Telegram could redeliver; returns rows removed."""
    cutoff = (now or utcnow()) - PROCESSED_KEEP
    result = session.exec(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
    return result.rowcount or 0


# The chat lock's statements that read or finish the update's row (bot/webhook/chat_locks.py).
def lock_if_mine_sql(namespace: int) -> str:
    """The chat lock, and whether the update is still unfinished and taken by us, in one round
    trip. Parameters: the chat's key, our Liveness key, the update id."""
    return (
        f"SELECT pg_try_advisory_lock({namespace}, %s),"
        " (SELECT taken_by = %s AND finished_at IS NULL FROM processed_updates"
        " WHERE update_id = %s)"
    )


def unlock_finished_sql(namespace: int) -> str:
    """Mark the update finished and release the chat lock, in one statement. Autocommit on the
    bookkeeping engine: the UPDATE commits with the statement, and a data-modifying CTE runs
    whether or not the SELECT reads it. Parameters: the update id, the chat's key."""
    return (
        "WITH finished AS (UPDATE processed_updates"
        " SET finished_at = now(), payload = NULL, replies = NULL"
        " WHERE update_id = %s) "
        f"SELECT pg_advisory_unlock({namespace}, %s)"
    )


# --- the reply journal's and the webhook answer's columns (bot/webhook/journal.py) ---------


def write_answer(
    db: Database, update_id: int, entries: dict[str, str], body: dict[str, Any]
) -> None:
    """The journal with the answer's message, and the answer itself, in one statement. The
    answer outlives the journal (finishing the update drops only the journal): Telegram may
    send the update again until it has had an answer."""
    db.execute(
        "UPDATE processed_updates SET replies = %s, answer = %s WHERE update_id = %s",
        (json.dumps(entries, ensure_ascii=False), json.dumps(body, ensure_ascii=False),
         update_id),
    )


def webhook_answer_for(db: Database, update_id: int) -> tuple[dict[str, Any] | None, bool]:
    """For a redelivered update: the message its first answer carried (the instance wrote it
    down, then died or lost the connection before Telegram had it) or None; and whether the
    update is finished."""
    row = db.lookup(
        "SELECT answer, finished_at FROM processed_updates WHERE update_id = %s", (update_id,)
    )
    if row is None:
        return None, True
    value, finished = row
    if value is None:
        return None, finished is not None
    return (json.loads(value) if isinstance(value, str) else dict(value)), finished is not None


def write_replies(db: Database, update_id: int, entries: dict[str, str]) -> None:
    """The update's whole record, in one autocommit statement (bookkeeping, bot/core/db.py)."""
    db.execute(
        "UPDATE processed_updates SET replies = %s WHERE update_id = %s",
        (json.dumps(entries, ensure_ascii=False), update_id),
    )


def read_replies(value: Any) -> dict[str, str]:
    """The column as stored (JSON text on SQLite, decoded on PostgreSQL) -> entries."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return {str(key): str(body) for key, body in value.items()}


def count_unfinished(db: Database) -> int:
    """Updates taken by any instance and not finished yet (in hand, or orphaned)."""
    row = db.lookup(
        "SELECT count(*) FROM processed_updates WHERE finished_at IS NULL AND payload IS NOT NULL"
    )
    return int(row[0]) if row else 0


# --- personal data: copies of recent answers (registered in bot/webhook/privacy.py) -------


def _answers_to(telegram_id: int) -> Any:
    # BIGINT: Telegram ids pass 2**31 (new users, every "-100..." supergroup).
    return cast(ProcessedUpdate.answer["chat_id"].as_string(), BigInteger) == telegram_id


def export_webhook_answers(session: Session, telegram_id: int) -> dict[str, object]:
    """The copies of the last messages of recent updates (kept PROCESSED_KEEP, see answer)."""
    answers = session.exec(
        select(ProcessedUpdate.answer)
        .where(ProcessedUpdate.answer.is_not(None), _answers_to(telegram_id))
        .order_by(ProcessedUpdate.update_id)
    ).all()
    return {"items": [{"text": answer.get("text")} for answer in answers]}


def answers_about(session: Session, mentioning: Any, telegram_id: int) -> list[ProcessedUpdate]:
    """Rows whose stored answer matches ``mentioning`` (an SQL clause on a column, see
    bot/privacy/copies.py), other than answers to ``telegram_id`` themselves. (Reply journals
    are left alone: they live only while an update is unfinished, and a retake reads them as
    Telegram's responses.)"""
    return list(
        session.exec(
            select(ProcessedUpdate).where(
                ProcessedUpdate.answer.is_not(None),
                ~_answers_to(telegram_id),
                mentioning(ProcessedUpdate.answer),
            )
        ).all()
    )


def erase_webhook_answers(session: Session, telegram_id: int) -> None:
    # Copies of messages sent to the person, kept two days at most; the outbox's line tells
    # the person that copies of our messages were deleted.
    session.exec(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.answer.is_not(None), _answers_to(telegram_id))
        .values(answer=None)
    )
