"""The database wrapper: a savepoint first in a transaction rolls back with it; errors do not
carry the statement's parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_savepoint_first_in_a_transaction_rolls_back_with_it(db):
    from bot.core.models import User

    with pytest.raises(RuntimeError):
        with db.session() as s:
            with s.begin_nested():
                s.add(User(telegram_id=42))
            raise RuntimeError("the unit of work fails after the savepoint")
    with db.session() as s:
        assert s.get(User, 42) is None


def test_database_errors_do_not_carry_the_parameters(db):
    """A failed statement's message is logged with the 500: it must not hold a tracking
    number's verification code or a name."""
    with pytest.raises(DBAPIError) as raised:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE code = :code"),
                         {"code": "VERIFY-SECRET-42"})
    assert "VERIFY-SECRET-42" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
    with pytest.raises(DBAPIError) as raised:
        with db.bookkeeping.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE code = :code"),
                         {"code": "VERIFY-SECRET-42"})
    assert "VERIFY-SECRET-42" not in str(raised.value)


def _migrated_sqlite(tmp_path):  # noqa: ANN001, ANN202 - a Database
    """A SQLite file of its own, migrated: the lock tests need a real file (WAL), not memory."""
    from bot.core.db import Database

    db = Database(f"sqlite:///{tmp_path / 'locks.db'}")
    db.upgrade()
    return db


def test_a_worker_threads_read_then_write_waits_its_turn_on_sqlite(tmp_path):
    """A console page in a worker thread reads a row, then writes (the audit of a reveal);
    meanwhile the event loop commits a write. On SQLite a deferred transaction would fail at
    its write ("database is locked": its snapshot is stale); the worker's transaction begins
    with the write lock, so the loop's write waits for it and both land."""
    import asyncio
    import threading

    from sqlmodel import select

    from bot.core.models import User

    db = _migrated_sqlite(tmp_path)
    with db.session() as s:
        s.add(User(telegram_id=1))
    has_read, loop_wrote = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def page() -> None:  # a console view in the threadpool: no event loop on this thread
        try:
            with db.session() as s:
                s.exec(select(User)).all()
                has_read.set()
                loop_wrote.wait(1.0)  # the loop's commit would land here, were it let in
                s.add(User(telegram_id=2))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    async def chat() -> None:  # a handler on the event loop: deferred, writes after the page
        await asyncio.to_thread(has_read.wait, 5.0)
        with db.session() as s:
            s.add(User(telegram_id=3))
        loop_wrote.set()

    worker = threading.Thread(target=page)
    worker.start()
    asyncio.run(chat())
    worker.join(10)
    assert failures == []
    with db.session() as s:
        assert sorted(u.telegram_id for u in s.exec(select(User))) == [1, 2, 3]
    db.engine.dispose()


def test_report_threads_do_not_hold_writers_up(tmp_path):
    """A report thread (bot/core/offload.py) only reads and stays deferred: while it holds a
    transaction open, a write on the event loop goes through at once."""
    import asyncio
    import threading
    import time

    from sqlmodel import select

    from bot.core.models import User
    from bot.core.offload import off_the_loop

    db = _migrated_sqlite(tmp_path)
    reading, done = threading.Event(), threading.Event()

    def report() -> int:
        with db.session() as s:
            rows = s.exec(select(User)).all()
            reading.set()
            done.wait(5.0)  # a long report, its transaction open
            return len(rows)

    async def main() -> float:
        pending = asyncio.ensure_future(off_the_loop(report))
        await asyncio.to_thread(reading.wait, 5.0)
        started = time.monotonic()
        with db.session() as s:
            s.add(User(telegram_id=7))
        took = time.monotonic() - started
        done.set()
        assert await pending == 0
        return took

    assert asyncio.run(main()) < 2.0
    db.engine.dispose()


def test_a_unit_of_work_inside_another_is_refused_in_the_suite_and_logged_in_production(
    tmp_path, monkeypatch, caplog
):
    """Nested (or, on the event loop, held across an await), two units of work on one thread
    could wait on each other's SQLite lock for the whole busy timeout: the suite refuses it;
    in production it is logged once and the inner one begins deferred, so its reads work."""
    from bot.core import db as dbmodule
    from bot.core.models import User

    db = _migrated_sqlite(tmp_path)
    with db.session() as outer:
        outer.get(User, 1)
        with pytest.raises(RuntimeError, match="while another was open on the same thread"):
            with db.session():
                pass
    monkeypatch.setenv("SERVICEBOT_STRICT_SESSIONS", "0")
    monkeypatch.setattr(dbmodule, "_warned_overlap", False)
    with db.session() as outer:
        outer.get(User, 1)
        with db.session() as inner:
            assert inner.get(User, 2) is None
    assert "while another was open on the same thread" in caplog.text
    # One after the other is the normal case: nothing said.
    caplog.clear()
    with db.session() as first:
        first.add(User(telegram_id=3))
    with db.session() as second:
        assert second.get(User, 3) is not None
    assert caplog.text == ""
    db.engine.dispose()


def test_the_event_loops_read_then_write_waits_for_a_worker_thread(tmp_path):
    """The other way round: a handler on the event loop reads, a console page commits a
    write meanwhile, then the handler writes. Begun with the write lock, the handler's unit of
    work makes the page wait instead of failing at its own write."""
    import asyncio
    import threading
    import time

    from sqlmodel import select

    from bot.core.models import User

    db = _migrated_sqlite(tmp_path)
    has_read = threading.Event()
    failures: list[BaseException] = []

    def page() -> None:
        has_read.wait(5.0)
        try:
            with db.session() as s:
                s.add(User(telegram_id=2))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    async def chat() -> None:
        with db.session() as s:
            s.exec(select(User)).all()
            has_read.set()
            time.sleep(0.5)  # the page's commit would land here, were it let in
            s.add(User(telegram_id=1))

    worker = threading.Thread(target=page)
    worker.start()
    asyncio.run(chat())
    worker.join(10)
    assert failures == []
    with db.session() as s:
        assert sorted(u.telegram_id for u in s.exec(select(User))) == [1, 2]
    db.engine.dispose()
