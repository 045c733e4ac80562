"""Several bot processes on one database: handled-update record, flood counts, chat locks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
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
    literal_column,
    or_,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from bot.core.db import Database
from bot.models import AwareDateTime, UtcDateTime, utcnow
from bot.personal_data import register_personal_data
from bot.replies import read_replies

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
    # What handling it has sent so far (bot/replies.py), dropped with the payload when finished.
    replies: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The instance handling it (Liveness.key): once that instance is gone, it is taken over at
    # once instead of after the lease.
    taken_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The message its webhook answer carried (bot/replies.py, WebhookAnswer): given again if
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
    (bot/replies.py)."""

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
                ProcessedUpdate.taken_by.not_in(_LIVE_KEYS),
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


# Advisory-lock namespace for instances: each `servicebot serve` holds (namespace, its key) for
# as long as it runs.
INSTANCE_LOCK_NAMESPACE = 0x5E7C


# The keys of the instances running now on this database: their Liveness locks, as pg_locks
# shows a two-key advisory lock (classid, objid; objsubid 2).
_LIVE_KEYS_SQL = (
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
    f" AND classid = {INSTANCE_LOCK_NAMESPACE} AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_LIVE_KEYS = select(literal_column("objid::bigint")).select_from(
    text(f"({_LIVE_KEYS_SQL}) AS live")
)


def live_instances(db: Database) -> list[int]:
    """The keys of the instances running now on this database."""
    with db.bookkeeping.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql(_LIVE_KEYS_SQL).all()]


class Liveness:
    """This instance, alive: a random key, and on PostgreSQL a session-level advisory lock on
    it, held on a connection of its own for as long as the instance runs. When the process
    dies, its connection closes and the lock goes with it, which every other instance sees;
    the updates it had taken are then taken over at once.

    If that connection is lost while the process lives (a database restart, a network cut),
    the others take over what it holds. So ``ensure`` starts again under a new key (the old
    one's updates are theirs now), and before handling an update an instance checks, with its
    chat lock, that the update is still its own and unfinished (ChatLocks): each update is
    handled by one of them.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.key = _new_key()
        self._conn: Connection | None = None

    def start(self) -> None:
        if not self.db.is_postgres or self._conn is not None:
            return
        conn = self.db.bookkeeping.connect()
        try:
            # Never waits: a fresh random key is nobody else's.
            locked = conn.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({INSTANCE_LOCK_NAMESPACE}, {self.key})"
            ).scalar()
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not locked:  # pragma: no cover - a collision of two random 31-bit keys
            conn.close()
            self.key = _new_key()
            self.start()
            return
        self._conn = conn

    def ensure(self) -> None:
        """Check the lock's connection; if it was lost, start again under a new key."""
        if not self.db.is_postgres:
            return
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                return
            except Exception:  # noqa: BLE001 - lost: the others take over what it held
                self._conn.invalidate()
                self._conn.close()
                self._conn = None
                self.key = _new_key()
        self.start()

    def stop(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.exec_driver_sql(
                f"SELECT pg_advisory_unlock({INSTANCE_LOCK_NAMESPACE}, {self.key})"
            )
        except Exception:  # noqa: BLE001 - the lock goes with the connection anyway
            self._conn.invalidate()
        finally:
            self._conn.close()
            self._conn = None


def _new_key() -> int:
    return secrets.randbits(31) | 1  # positive, as pg_locks shows it (an oid)


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
                "minute": _minute(now),
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
    return _verdict(count, previous, flood_limit)


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
    if count != limit + 1:
        return _verdict(count, None, limit)
    previous = session.get(FloodCount, (user_id, minute - 1))
    return _verdict(count, previous.count if previous is not None else None, limit)


def _verdict(count: int, previous: int | None, limit: int) -> str:
    """This minute's count so far and the previous minute's (None: no row) -> the verdict."""
    if count <= limit:
        return "ok"
    if count > limit + 1:
        return "silent"
    return "silent" if previous is not None and previous > limit else "notify"


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


def erase_webhook_answers(session: Session, telegram_id: int) -> None:
    # Copies of messages sent to the person, kept two days at most; the outbox's line tells
    # the person that copies of our messages were deleted.
    session.exec(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.answer.is_not(None), _answers_to(telegram_id))
        .values(answer=None)
    )


register_personal_data("recent_answers", export_webhook_answers, erase_webhook_answers)


# Advisory-lock namespace for chats; the second key is the chat id folded into 32 bits.
# A fold collision only makes two chats wait for each other, never mixes their data.
CHAT_LOCK_NAMESPACE = 0x5E7B


@dataclass
class Holding:
    """What a holder of a chat's lock reports on leaving it: ``finished`` set once the update
    was handled (not when handling was cancelled by a shutdown)."""

    update_id: int | None = None
    finished: bool = False
    recorded: bool = False  # the finish was written with the unlock (PostgreSQL)
    # Checked with the chat lock (PostgreSQL, given an owner): the update is still unfinished
    # and this instance's. False: another instance finished it or took it over; leave it.
    mine: bool = True


class ChatLocks:
    """One chat's updates handled one at a time, in this process and across processes.

    In-process an asyncio.Lock per chat keeps arrival order. On PostgreSQL a session-level
    advisory lock (pg_try_advisory_lock, retried without blocking the event loop) is held on a
    dedicated connection while the update is handled, so an instance never handles a chat while
    another instance is still in the middle of that chat's previous update. The statement that
    releases it also marks the update finished, so an update answered and then orphaned by a
    killed process is not retaken: the window left is the time between Telegram's answer to
    the last reply and that one statement.
    """

    def __init__(self, db: Database, owner: Liveness | None = None) -> None:
        self.db = db
        self.owner = owner  # with it, the lock also checks that an update is still ours
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}

    @asynccontextmanager
    async def hold(
        self, chat_id: int | None, update_id: int | None = None
    ) -> AsyncIterator[Holding]:
        holding = Holding(update_id=update_id)
        if chat_id is None:
            yield holding
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiters[chat_id] = self._waiters.get(chat_id, 0) + 1
        try:
            async with lock:
                if self.db.is_postgres:
                    async with self._advisory(chat_id, holding):
                        yield holding
                else:
                    yield holding
        finally:
            self._waiters[chat_id] -= 1
            if not self._waiters[chat_id]:
                # Nobody else waits for this chat: drop the lock so the dict stays small.
                del self._waiters[chat_id]
                self._locks.pop(chat_id, None)

    @asynccontextmanager
    async def _advisory(self, chat_id: int, holding: Holding) -> AsyncIterator[None]:
        key = _fold32(chat_id)
        # A session-level lock needs no transaction: the bookkeeping engine is autocommit. Two
        # statements per update, straight on the driver's cursor (no SQL to compile or result
        # to wrap).
        with self.db.bookkeeping.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                delay = 0.002
                if self.owner is not None and holding.update_id is not None:
                    sql, params = _LOCK_MINE, (key, self.owner.key, holding.update_id)
                else:
                    sql, params = _LOCK, (key,)
                while not (row := _fetch_row(conn, cursor, sql, params))[0]:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
                if len(row) > 1:
                    holding.mine = bool(row[1])
                try:
                    yield
                finally:
                    if holding.finished and holding.update_id is not None:
                        _fetch_flag(conn, cursor, _UNLOCK_FINISHED, (holding.update_id, key))
                        holding.recorded = True
                    else:
                        _fetch_flag(conn, cursor, _UNLOCK, (key,))
            finally:
                cursor.close()


_LOCK = f"SELECT pg_try_advisory_lock({CHAT_LOCK_NAMESPACE}, %s)"
_UNLOCK = f"SELECT pg_advisory_unlock({CHAT_LOCK_NAMESPACE}, %s)"
# The lock, and whether the update is still unfinished and taken by us, in one round trip.
_LOCK_MINE = (
    f"SELECT pg_try_advisory_lock({CHAT_LOCK_NAMESPACE}, %s),"
    " (SELECT taken_by = %s AND finished_at IS NULL FROM processed_updates"
    " WHERE update_id = %s)"
)
# Autocommit on the bookkeeping engine: the UPDATE commits with the statement, and a
# data-modifying CTE runs whether or not the SELECT reads it.
_UNLOCK_FINISHED = (
    "WITH finished AS (UPDATE processed_updates"
    " SET finished_at = now(), payload = NULL, replies = NULL"
    " WHERE update_id = %s) "
    f"SELECT pg_advisory_unlock({CHAT_LOCK_NAMESPACE}, %s)"
)


def _fetch_flag(conn: Connection, cursor: Any, sql: str, params: tuple[int, ...]) -> bool:
    return bool(_fetch_row(conn, cursor, sql, params)[0])


def _fetch_row(
    conn: Connection, cursor: Any, sql: str, params: tuple[int, ...]
) -> tuple[Any, ...]:
    try:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())
    except Exception:
        # Past SQLAlchemy, so tell the pool itself: this connection is not to be reused (a
        # lost connection also drops its session locks, so nothing stays locked).
        conn.invalidate()
        raise


def _fold32(value: int) -> int:
    folded = (value ^ (value >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= (1 << 31) else folded
