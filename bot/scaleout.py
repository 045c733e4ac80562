"""Several bot processes on one database: handled-update record, flood counts, chat locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, delete, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from bot.db import Database
from bot.models import UtcDateTime, utcnow
from bot.personal_data import register_personal_data

# Telegram keeps an undelivered update for 24 hours, so a redelivery can only come within that;
# twice that is a safe margin for the record of handled ids.
PROCESSED_KEEP = timedelta(hours=48)
# A webhook update taken this long ago and not finished is presumed orphaned (its process
# died) and is taken again by whichever instance looks first. Handling takes well under a
# second; a lease far above that keeps a slow but alive instance from being overtaken.
LEASE = timedelta(seconds=20)
# Application.bot_data key: {update id: flood verdict} of the updates the webhook server took
# and is handling, so the guard in handlers/production.py neither claims nor counts them again.
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


def take_update(
    db: Database,
    update_id: int,
    payload: dict[str, Any],
    *,
    user_id: int | None = None,
    flood_limit: int = 0,
    now: datetime | None = None,
) -> str:
    """The webhook's claim, storing the update: "duplicate" when some process already took
    it, else the user's flood verdict (see admit_update), counted in the same transaction."""
    return admit_update(
        db, update_id, user_id=user_id, flood_limit=flood_limit, now=now, payload=payload
    )


def finish_updates(
    db: Database, update_ids: Iterable[int], *, now: datetime | None = None
) -> None:
    """Mark handled updates finished (and drop their stored copy), several in one statement."""
    ids = list(update_ids)
    if not ids:
        return
    with db.session() as session:
        if db.is_postgres:
            session.exec(text("SET LOCAL synchronous_commit TO OFF"))
        session.exec(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id.in_(ids))
            .values(finished_at=now or utcnow(), payload=None)
        )


def retake_orphans(
    db: Database, *, now: datetime | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Updates taken more than LEASE ago and never finished, now taken by the caller.

    The conditional UPDATE is the atomic step: of two instances retaking one row, only one
    sees it change. Oldest first, so a chat's updates keep their order.
    """
    now = now or utcnow()
    cutoff = now - LEASE
    taken: list[dict[str, Any]] = []
    with db.session() as session:
        candidates = session.exec(
            select(ProcessedUpdate.update_id)
            .where(
                ProcessedUpdate.finished_at.is_(None),
                ProcessedUpdate.payload.is_not(None),
                ProcessedUpdate.processed_at < cutoff,
            )
            .order_by(ProcessedUpdate.update_id)
            .limit(limit)
        ).all()
    for update_id in candidates:
        with db.session() as session:
            changed = session.exec(
                update(ProcessedUpdate)
                .where(
                    ProcessedUpdate.update_id == update_id,
                    ProcessedUpdate.finished_at.is_(None),
                    ProcessedUpdate.processed_at < cutoff,
                )
                .values(processed_at=now)
            ).rowcount
            if changed == 1:
                row = session.get(ProcessedUpdate, update_id)
                taken.append(dict(row.payload))
    return taken


class FloodCount(SQLModel, table=True):
    """Updates from one user in one clock minute, shared by every process."""

    __tablename__ = "flood_counts"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    minute: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    count: int = 0


def claim_update(db: Database, update_id: int, *, now: datetime | None = None) -> bool:
    """Record the update as taken; False when some process (this one or another) already did."""
    return admit_update(db, update_id, user_id=None, flood_limit=0, now=now) != "duplicate"


def admit_update(
    db: Database,
    update_id: int | None,
    *,
    user_id: int | None,
    flood_limit: int,
    now: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Both guards in one short transaction: "duplicate", or the flood verdict for the user.

    ``update_id`` None: the update was already taken (by the webhook, take_update); only
    count it for flood control.

    Insert-first on the primary key is atomic across processes: of two concurrent inserts of one
    id, PostgreSQL lets one commit and fails the other with a unique violation. The commit does
    not wait for the disk (synchronous_commit off, this transaction only): after a database
    crash the last fraction of a second of ids could be forgotten, and an update redelivered
    in exactly that window handled again, which is cheaper than one disk flush per update.
    """
    now = now or utcnow()
    try:
        with db.session() as session:
            if db.is_postgres:
                session.exec(text("SET LOCAL synchronous_commit TO OFF"))
            if update_id is not None:
                session.add(
                    ProcessedUpdate(update_id=update_id, processed_at=now, payload=payload)
                )
                session.flush()
            if user_id is None:
                return "ok"
            return flood_verdict(session, user_id=user_id, limit=flood_limit, now=now)
    except IntegrityError:
        return "duplicate"


def prune_processed(session: Session, *, now: datetime | None = None) -> int:
    """Forget handled update ids older than Telegram could redeliver; returns rows removed."""
    cutoff = (now or utcnow()) - PROCESSED_KEEP
    result = session.exec(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
    return result.rowcount or 0


def _minute(now: datetime) -> int:
    return int(now.timestamp() // 60)


def flood_verdict(
    session: Session, *, user_id: int, limit: int, now: datetime | None = None
) -> str:
    """Count one update of the user; "ok", "notify" (first one over the limit) or "silent".

    Counted in fixed clock minutes with an atomic upsert, so every process sees one count. The
    notice is given once: not again in the same minute, nor in the next while the user keeps
    flooding; a calm minute resets it.
    """
    if limit <= 0:
        return "ok"
    minute = _minute(now or utcnow())
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    stmt = (
        insert(FloodCount)
        .values(user_id=user_id, minute=minute, count=1)
        .on_conflict_do_update(
            index_elements=["user_id", "minute"], set_={"count": FloodCount.count + 1}
        )
        .returning(FloodCount.count)
    )
    count = session.exec(stmt).scalar_one()
    if count <= limit:
        return "ok"
    if count > limit + 1:
        return "silent"
    previous = session.get(FloodCount, (user_id, minute - 1))
    return "silent" if previous is not None and previous.count > limit else "notify"


def prune_flood_counts(session: Session, *, now: datetime | None = None) -> int:
    """Drop counts of past minutes (the previous one is still read)."""
    oldest_kept = _minute(now or utcnow()) - 1
    result = session.exec(delete(FloodCount).where(FloodCount.minute < oldest_kept))
    return result.rowcount or 0


def export_flood_counts(session: Session, telegram_id: int) -> dict[str, object]:
    rows = session.exec(select(FloodCount).where(FloodCount.user_id == telegram_id)).all()
    return {"messages_counted_last_minutes": sum(row.count for row in rows)}


def erase_flood_counts(session: Session, telegram_id: int) -> None:
    # Transient (two minutes at most) and not worth a line in the citizen's report.
    session.exec(delete(FloodCount).where(FloodCount.user_id == telegram_id))


register_personal_data("flood_control", export_flood_counts, erase_flood_counts)


# Advisory-lock namespace for chats; the second key is the chat id folded into 32 bits.
# A fold collision only makes two chats wait for each other, never mixes their data.
CHAT_LOCK_NAMESPACE = 0x5E7B


class ChatLocks:
    """One chat's updates handled one at a time, in this process and across processes.

    In-process an asyncio.Lock per chat keeps arrival order. On PostgreSQL a session-level
    advisory lock (pg_try_advisory_lock, retried without blocking the event loop) is held on a
    dedicated connection while the update is handled, so an instance never handles a chat while
    another instance is still in the middle of that chat's previous update.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, chat_id: int | None) -> AsyncIterator[None]:
        if chat_id is None:
            yield
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiters[chat_id] = self._waiters.get(chat_id, 0) + 1
        try:
            async with lock:
                if self.db.is_postgres:
                    async with self._advisory(chat_id):
                        yield
                else:
                    yield
        finally:
            self._waiters[chat_id] -= 1
            if not self._waiters[chat_id]:
                # Nobody else waits for this chat: drop the lock so the dict stays small.
                del self._waiters[chat_id]
                self._locks.pop(chat_id, None)

    @asynccontextmanager
    async def _advisory(self, chat_id: int) -> AsyncIterator[None]:
        key = _fold32(chat_id)
        params = {"ns": CHAT_LOCK_NAMESPACE, "key": key}
        # Autocommit: a session-level lock needs no transaction, and none is left open.
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            delay = 0.002
            while not conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), params
            ).scalar_one():
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), params)


def _fold32(value: int) -> int:
    folded = (value ^ (value >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= (1 << 31) else folded
