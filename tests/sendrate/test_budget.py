"""One send budget for the bot: instances on one PostgreSQL share Telegram's limits and 429s."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select
from telegram import Bot

from bot.core.db import Database
from bot.emulator import Emulator, EmulatorServer
from bot.emulator.core import FloodLimits
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue
from bot.sendrate import BOT, LocalBudget, SharedBudget, chat_key, send_budget
from handlers.outbox_delivery import OUTBOX_RESERVE, drain_outbox
from tests.conftest import _fresh_postgres
from tests.support.applications import make_runtime
from tests.support.e2e import TOKEN


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """A migrated, empty PostgreSQL database (what several instances share)."""
    _fresh_postgres(postgres_url).dispose()
    return postgres_url


def _queue(db: Database, ids: list[int] | range, text: str = "Halo {id}") -> None:
    with db.session() as s:
        for user_id in ids:
            enqueue(s, chat_id=user_id, text=text.format(id=user_id))


def _received(emulator: Emulator, chat_id: int) -> list[str]:
    return [e.message.get("text", "") for e in emulator.chat_events(chat_id, 0, kinds=("bot",))]


def _instance(url: str, server: EmulatorServer, *, max_messages: int | None = None) -> int:
    """One `servicebot serve` in all but name: own engine, runtime, Bot and event loop; drains
    until nothing is due (its rows a 429 or a chat's second put back included)."""
    db = Database(url)
    rt = make_runtime(db, telegram_bot_token=TOKEN)

    async def run() -> int:
        bot = Bot(TOKEN, base_url=server.api_url)
        await bot.initialize()
        sent = 0
        try:
            while True:
                sent += await drain_outbox(bot, rt, max_messages=max_messages)
                if max_messages is not None:
                    return sent
                with db.session() as s:
                    left = s.exec(
                        select(OutboxMessage).where(OutboxMessage.status.in_(("pending",
                                                                               "claimed")))
                    ).first()
                if left is None:
                    return sent
                await asyncio.sleep(0.05)
        finally:
            await bot.shutdown()

    try:
        return asyncio.run(run())
    finally:
        db.dispose()


@pytest.mark.postgres
async def test_two_senders_on_one_postgres_share_the_bots_limit(pg_url):
    # Each sender alone paces itself right; before the shared budget, two of them sent twice
    # Telegram's 30 a second together and about a third of a broadcast met a 429.
    emulator = Emulator(TOKEN, flood_limits=True)
    server = EmulatorServer(emulator)
    await server.start()
    users = range(4000, 4100)
    for user_id in users:
        emulator.add_user(user_id)
    emulator.started.update(users)
    seed = Database(pg_url)
    _queue(seed, users)
    seed.dispose()
    try:
        sent = await asyncio.gather(
            asyncio.to_thread(_instance, pg_url, server),
            asyncio.to_thread(_instance, pg_url, server),
        )
    finally:
        await server.stop()
    assert [e for e in emulator.errors if e["error_code"] == 429] == []
    assert sum(sent) == len(users)
    assert all(count > 0 for count in sent), sent  # both really took part
    for user_id in users:
        assert _received(emulator, user_id) == [f"Halo {user_id}"]


@pytest.mark.postgres
async def test_a_429_met_by_one_instance_pauses_the_other(pg_url):
    # Telegram lets this bot send one message every two seconds: the second message of the
    # first instance is answered 429 "retry after 2".
    emulator = Emulator(TOKEN, flood_limits=FloodLimits(per_bot=(1, 0.5)))
    server = EmulatorServer(emulator)
    await server.start()
    for user_id in (4201, 4202, 4203):
        emulator.add_user(user_id)
        emulator.started.add(user_id)
    db = Database(pg_url)
    try:
        _queue(db, [4201, 4202])
        assert await asyncio.to_thread(_instance, pg_url, server, max_messages=2) == 1
        assert len([e for e in emulator.errors if e["error_code"] == 429]) == 1
        # The other instance, which has not met any 429 itself, now has a message to send:
        # it waits out the pause the first one stored, and Telegram accepts it.
        _queue(db, [4203])
        assert await asyncio.to_thread(_instance, pg_url, server, max_messages=1) == 1
    finally:
        await server.stop()
        db.dispose()
    assert len([e for e in emulator.errors if e["error_code"] == 429]) == 1
    assert _received(emulator, 4203) == ["Halo 4203"]


@pytest.mark.postgres
async def test_a_reply_waits_for_a_pause_another_instance_met(pg_url, make_bot):
    # One message per 10 s: the other instance's second message meets a 429 however slowly a
    # loaded machine runs the two sends.
    emulator = Emulator(TOKEN, flood_limits=FloodLimits(per_bot=(1, 0.1)))
    replying = await make_bot(pg_url, emulator=emulator)
    citizen = replying.user(4301)
    for user_id in (4302, 4303):
        emulator.add_user(user_id)
        emulator.started.add(user_id)
    db = Database(pg_url)
    try:
        _queue(db, [4302, 4303])
        # Another instance's outbox: the first goes, the second is answered 429.
        await asyncio.to_thread(_instance, pg_url, replying.server, max_messages=2)
        assert len([e for e in emulator.errors if e["error_code"] == 429]) == 1
        await citizen.send("/start")
        await citizen.reply(timeout=25)
    finally:
        db.dispose()
    # The reply waited for the pause instead of meeting a 429 of its own.
    assert len([e for e in emulator.errors if e["error_code"] == 429]) == 1


@pytest.mark.parametrize("kind", ["local", "shared"])
def test_replies_go_first_when_the_budget_runs_low(kind, database_url):
    db = Database(database_url)
    if kind == "shared" and not db.is_postgres:
        db.dispose()
        pytest.skip("the shared budget lives in PostgreSQL")
    budget = SharedBudget(db, 0.01) if kind == "shared" else LocalBudget(0.01)
    try:
        # A broadcast has taken all the outbox may: what is left is for the replies.
        first = budget.take(BOT, 1, reserve=OUTBOX_RESERVE)
        assert first.granted == 0 and first.wait > 60
        assert budget.take(BOT, 1).granted == 1  # a reply
        budget.pause(BOT, 30)
        assert budget.take(BOT, 1).granted == 0  # during a 429's pause, nobody
        group = chat_key(-100123)
        assert group is not None and chat_key(4301) is None
        assert budget.take(group, 1).granted == 1  # a group's own bucket
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_pause_reaches_every_instance_through_the_database(pg_url):
    one, other = Database(pg_url), Database(pg_url)
    try:
        first = SharedBudget(one, 28)
        second = SharedBudget(other, 28)
        assert first.take(BOT).granted == 1
        first.pause(BOT, 5)
        grant = second.take(BOT)
        assert grant.granted == 0 and 4 < grant.wait <= 5
    finally:
        one.dispose()
        other.dispose()


def test_the_application_takes_its_sends_from_the_budget(db):
    from bot.app import build_application
    from bot.webhook.rate_limiter import BudgetRateLimiter

    rt = make_runtime(db, telegram_bot_token=TOKEN)
    app = build_application(rt)
    assert isinstance(app.bot.rate_limiter, BudgetRateLimiter)
    assert app.bot.rate_limiter.budget is send_budget(rt)


@pytest.mark.postgres
def test_a_rate_far_above_telegrams_is_taken_in_leases(pg_url):
    db = Database(pg_url)
    try:
        budget = SharedBudget(db, 5000)  # the emulator with its limits off: 50 per statement
        assert all(budget.take(BOT).granted == 1 for _ in range(50))
        first = db.lookup("SELECT granted FROM send_budget WHERE key = 'bot'")
        assert first == (50,)
        assert budget.take(BOT).granted == 1  # the 51st: a new lease
        exact = SharedBudget(db, 28)  # Telegram's rate: every send asks the database
        assert exact.take(BOT).granted == 1
        assert db.lookup("SELECT granted FROM send_budget WHERE key = 'bot'") == (1,)
    finally:
        db.dispose()
