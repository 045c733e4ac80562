"""Fixtures shared by the suite: a migrated database on SQLite and, where reachable, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.core.db import Database
from bot.privacy.kinds import register_all_kinds
from tests.support.browser import browser_missing, launch
from tests.support.e2e import BotHarness, HarnessStarter

# A database unit of work opened while another is open on the same thread fails the test: on
# SQLite the two could wait on each other (bot/core/db.py, _takes_write_lock_first).
os.environ.setdefault("SERVICEBOT_STRICT_SESSIONS", "1")

# CI machines run PostgreSQL here with trust auth; each test run gets its own database so
# parallel runs never meet.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
    return None


_PG_SKIP = _postgres_reason()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if _PG_SKIP:
        if os.environ.get("CI"):
            pytest.fail(_PG_SKIP)
        pytest.skip(_PG_SKIP)
    name = f"servicebot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres(url: str) -> Database:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.upgrade()
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # noqa: ANN001
    """A migrated, empty database URL: SQLite in a temp folder, and the PostgreSQL one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/test.db"
        Database(url).upgrade()
        return url
    url = request.getfixturevalue("postgres_url")
    _fresh_postgres(url).dispose()
    return url


@pytest.fixture(scope="session", autouse=True)
def personal_data_kinds() -> None:
    """The kinds of personal data, registered as the bot registers them when it starts (tests
    that call the domain functions build no Application)."""
    register_all_kinds()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:  # noqa: ANN001
    """Only SQLite, for tests where the store does not matter."""
    database = Database(f"sqlite:///{tmp_path}/test.db")
    database.upgrade()
    yield database
    database.dispose()


# --- end-to-end: the real bot against the Bot API emulator (see tests/support/e2e.py) -------


@pytest.fixture
async def make_bot() -> AsyncIterator[Callable[..., HarnessStarter]]:
    """Factory: ``await make_bot(database_url, admin_ids=[1], ...)`` or ``async with``; every
    harness still running at the end of the test is stopped."""
    harnesses: list[BotHarness] = []

    def factory(database_url: str, **kwargs: Any) -> HarnessStarter:
        harness = BotHarness(database_url, **kwargs)
        harnesses.append(harness)
        return HarnessStarter(harness)

    yield factory
    for harness in reversed(harnesses):
        await harness.stop()


@pytest.fixture
async def bot(database_url: str, make_bot: Callable[..., HarnessStarter]) -> BotHarness:
    """The bot on SQLite and on PostgreSQL, polling a fresh emulator."""
    return await make_bot(database_url)


@pytest.fixture
async def bot_sqlite(tmp_path, make_bot: Callable[..., HarnessStarter]) -> BotHarness:  # noqa: ANN001
    """The bot on a fresh SQLite database only."""
    return await make_bot(f"sqlite:///{tmp_path}/bot.core.db")


# --- pages in a real browser (tests marked browser) -------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium through Playwright; skipped where it is missing, a failure on CI."""
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Chromium on CI: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()
