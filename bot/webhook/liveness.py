"""Which instances are alive: each `servicebot serve` holds an advisory lock on a key of its
own, so the others see at once when it dies (PostgreSQL)."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import (
    literal_column,
    text,
)
from sqlalchemy.engine import Connection
from sqlmodel import select

from bot.core.db import Database

log = logging.getLogger(__name__)

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
LIVE_KEYS = select(literal_column("objid::bigint")).select_from(
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


