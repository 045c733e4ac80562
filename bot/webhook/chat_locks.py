"""Chat locks: one chat's updates handled one at a time, in this process and across processes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from bot.core.db import Database
from bot.webhook.liveness import Liveness
from bot.webhook.store import lock_if_mine_sql, unlock_finished_sql

log = logging.getLogger(__name__)

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
_LOCK_MINE = lock_if_mine_sql(CHAT_LOCK_NAMESPACE)
_UNLOCK_FINISHED = unlock_finished_sql(CHAT_LOCK_NAMESPACE)
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
