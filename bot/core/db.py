"""Database engine and units of work; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from bot.core.errors import ConfigError

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# A pooled PostgreSQL connection that sat unused this long is tested ("SELECT 1") before it is
# handed out, so one dropped by a database restart or a firewall is replaced, not failed on.
# A connection in steady use is not: a ping per unit of work would be one more round trip on
# every update. If the server goes away between two uses, that first use fails, SQLAlchemy
# sees a disconnect and discards the whole pool, and the next unit of work reconnects.
IDLE_PING_SECONDS = 10.0
# Advisory-lock key held while migrating (bot/webhook/chat_locks.py's chat locks use two-key locks,
# a separate key space).
MIGRATION_LOCK = 0x5E7B0001


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _sqlite_folder(Path(path).parent)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # pysqlite's own transaction handling commits a SAVEPOINT opened first in a
            # transaction; let SQLAlchemy issue BEGIN itself so savepoints nest properly
            # (the recipe in SQLAlchemy's SQLite dialect documentation).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # noqa: ANN001
            immediate = _takes_write_lock_first(conn.engine)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    engine = create_engine(
        url, pool_size=10, max_overflow=10, connect_args=_keepalives(url, ""),
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


# Set while code runs that only reads (the report threads, bot/core/offload.py): its SQLite
# transactions stay deferred even off the event loop (see _takes_write_lock_first).
_READS_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("db_reads_only", default=False)


@contextmanager
def reads_only() -> Iterator[None]:
    """Mark the block's units of work as reading only: on SQLite, a worker thread then does not
    take the write lock at BEGIN (a report reading a year of rows would hold every writer up)."""
    token = _READS_ONLY.set(True)
    try:
        yield
    finally:
        _READS_ONLY.reset(token)


# How many units of work (Database.session) are open on this thread, per engine: more than one
# means one is nested in another, or (on the event loop's thread) held across an await.
_OPEN = threading.local()
# Set (to 1) by the test suite: a unit of work begun on SQLite while another is open on the same
# thread raises instead of logging a warning, so no such code lands (see _takes_write_lock_first).
STRICT_SESSIONS_ENV = "SERVICEBOT_STRICT_SESSIONS"
_warned_overlap = False


def _open_counts() -> dict[int, int]:
    counts = getattr(_OPEN, "counts", None)
    if counts is None:
        counts = _OPEN.counts = {}
    return counts


def _takes_write_lock_first(engine: Engine) -> bool:
    """Whether a SQLite transaction begins IMMEDIATE (with the write lock) or deferred.

    SQLite in WAL mode lets one writer in at a time; a deferred transaction that read first
    and writes later fails at once ("database is locked", no busy wait) when another
    connection committed in between, because its snapshot is stale. The event loop and the
    worker threads (the console's pages, the HTTP API, the Bot API transport) run side by side,
    so a unit of work begins IMMEDIATE: it waits its turn at BEGIN (the busy timeout) instead of
    failing at its write. Units of work are short, and none waits for another while it holds
    the lock: a unit of work opened while another is open on the same thread (nested, or held
    across an await on the event loop) would wait on its own thread for the whole busy timeout,
    with every chat stalled. The suite raises on that (STRICT_SESSIONS_ENV) and finds none; in
    production it is logged, and such a unit of work begins deferred so that at least its reads
    go through.

    Code marked ``reads_only`` (the report threads) stays deferred: a report reading a year of
    rows must not hold every writer up."""
    if _READS_ONLY.get():
        return False
    return _open_counts().get(id(engine), 0) <= 1


def _overlapping_unit_of_work() -> None:
    global _warned_overlap
    message = ("a database unit of work began while another was open on the same thread "
               "(nested, or held across an await); on SQLite the two can wait on each other")
    if os.environ.get(STRICT_SESSIONS_ENV) == "1":
        raise RuntimeError(message)
    if not _warned_overlap:
        _warned_overlap = True
        log.warning("%s", message, stack_info=True)


# The default DATABASE_URL's folder, relative to where the bot runs: made on first start. Any
# other folder must exist: a typo in DATABASE_URL would otherwise put the database somewhere
# nobody backs up.
DEFAULT_SQLITE_FOLDER = Path("data")


def _sqlite_folder(folder: Path) -> None:
    if folder.is_dir():
        return
    if folder != DEFAULT_SQLITE_FOLDER:
        raise ConfigError(
            f"DATABASE_URL: the folder {folder} for the SQLite file does not exist; create it "
            "first (only the default data/ folder is created)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot create the folder {folder} for the SQLite file "
            f"({exc.strerror})"
        ) from None


def _keepalives(url: str, options: str) -> dict[str, object]:
    """TCP keepalives on both ends of a PostgreSQL connection: this side notices a database
    that vanished (instead of waiting on a dead socket), and the server notices a bot machine
    that vanished within about a minute, releasing its locks (its liveness lock among them,
    bot/webhook/store.py) so another instance takes over its updates."""
    server_side = (
        "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
    )
    return {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        # Options given in DATABASE_URL (?options=...) are kept, ahead of ours.
        "options": " ".join(part for part in (_url_options(url), options, server_side) if part),
    }


def _url_options(url: str) -> str:
    from sqlalchemy.engine import make_url

    given = make_url(url).query.get("options", "")
    return " ".join(given) if isinstance(given, tuple) else given


def make_bookkeeping_engine(url: str) -> Engine:
    """PostgreSQL connections for the webhook's own bookkeeping (handled update ids, flood
    counts, chat locks): autocommit, so one statement is one round trip, and commits that do
    not wait for the disk (synchronous_commit off). A database crash could forget the last
    fraction of a second of those rows, never corrupt them; application data keeps using the
    main engine and durable commits."""
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        isolation_level="AUTOCOMMIT",
        connect_args=_keepalives(url, "-c synchronous_commit=off"),
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection at checkout only after IDLE_PING_SECONDS unused (see above)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure means "use a new connection"
            raise DisconnectionError from exc
        if not alive:
            raise DisconnectionError


class Database:
    """One engine per process; one session per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # SQLite is one process: its bookkeeping shares the one engine.
        postgres = self.engine.dialect.name == "postgresql"
        self.bookkeeping = make_bookkeeping_engine(url) if postgres else self.engine

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        counts, key = _open_counts(), id(self.engine)
        counts[key] = counts.get(key, 0) + 1
        try:
            if counts[key] > 1 and not self.is_postgres:
                _overlapping_unit_of_work()
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            counts[key] -= 1

    def lookup(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of a read-only query, or None: for the few lookups made on every
        update (the user's language, their open flow). Straight on the driver's cursor, about
        a fifth of the CPU of the same SELECT through SQLAlchemy; on PostgreSQL in autocommit,
        so one round trip. ``sql`` uses %s placeholders and plain column values (no types
        needing SQLAlchemy's conversion); a write goes through ``execute`` or ``session()``."""
        row, _ = self._on_cursor(sql, params)
        return tuple(row) if row is not None else None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """One statement of the bot's own bookkeeping, committed on its own; the rows it
        changed. Like ``lookup``: %s placeholders, plain values, the driver's cursor; on
        PostgreSQL the bookkeeping engine's commit does not wait for the disk (see
        make_bookkeeping_engine), on SQLite the connection is in autocommit (make_engine)."""
        _, changed = self._on_cursor(sql, params, fetch=False)
        return changed

    def _on_cursor(
        self, sql: str, params: tuple[Any, ...], *, fetch: bool = True
    ) -> tuple[Any, int]:
        """One statement on a pooled driver connection: (first row or None, rows changed)."""
        if not self.is_postgres:
            sql = sql.replace("%s", "?")  # sqlite3's placeholder
        conn = self.bookkeeping.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone() if fetch else None
                changed = cursor.rowcount
            finally:
                cursor.close()
            if fetch and not self.is_postgres:
                conn.rollback()  # ends SQLite's read transaction
        except Exception:
            conn.invalidate()
            raise
        finally:
            conn.close()  # back to the pool
        return row, changed

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision``. On PostgreSQL under an advisory lock: instances started at
        once on a new database take turns, and the later ones find the work done."""
        from alembic import command

        if not self.is_postgres:
            command.upgrade(alembic_config(self.url), revision)
            return
        with self.bookkeeping.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            try:
                command.upgrade(alembic_config(self.url), revision)
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.bookkeeping is not self.engine:
            self.bookkeeping.dispose()


def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
