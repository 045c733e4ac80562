"""The outbox sender against the Bot API emulator: restarts, two senders, 429, 403, failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select
from telegram import Bot

from bot.core.db import Database
from bot.core.metrics import METRICS
from bot.core.models import User, utcnow
from bot.emulator import Emulator, EmulatorServer
from bot.outbox.models import OutboxMessage
from bot.outbox.store import CLAIM_TTL, claim_due, enqueue
from bot.sendrate import LocalBudget, SharedBudget, use_budget
from handlers.outbox_delivery import SendLimiter, drain_outbox, outbox_sender
from tests.support.applications import make_runtime
from tests.support.e2e import TOKEN


def _received(emulator: Emulator, chat_id: int) -> list[str]:
    return [e.message.get("text", "") for e in emulator.chat_events(chat_id, 0, kinds=("bot",))]


def _start_users(emulator: Emulator, ids: range | list[int]) -> None:
    for user_id in ids:
        emulator.add_user(user_id)
    # As if each had written to the bot once: Telegram lets a bot write only to those.
    emulator.started.update(ids)


def _queue(db: Database, ids: range | list[int], *, text: str = "Halo {id}") -> None:
    with db.session() as s:
        for user_id in ids:
            enqueue(s, chat_id=user_id, text=text.format(id=user_id))


def _statuses(db: Database) -> dict[str, int]:
    with db.session() as s:
        counts: dict[str, int] = {}
        for row in s.exec(select(OutboxMessage)).all():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts


async def test_rows_left_by_a_stopped_bot_are_sent_after_the_restart(make_bot, database_url):
    first = await make_bot(database_url)
    _start_users(first.emulator, range(500, 506))
    await first.stop()
    # Queued while no bot runs, and two rows a crashed sender had claimed but never sent.
    _queue(first.rt.db, range(500, 506))
    with first.rt.db.session() as s:
        assert len(claim_due(s, worker_id="crashed", limit=2)) == 2

    second = await make_bot(database_url, emulator=first.emulator)
    await drain_outbox(second.app, second.rt, now=utcnow() + CLAIM_TTL + timedelta(seconds=1))
    for user_id in range(500, 506):
        assert _received(second.emulator, user_id) == [f"Halo {user_id}"]
    assert _statuses(second.rt.db) == {"sent": 6}


async def test_two_senders_send_each_row_exactly_once(database_url):
    emulator = Emulator(TOKEN)
    server = EmulatorServer(emulator)
    await server.start()
    try:
        users = range(1000, 1090)
        _start_users(emulator, users)
        seed = Database(database_url)
        _queue(seed, users)
        seed.dispose()

        def one_sender() -> int:
            # Its own process in all but name: own engine, own Bot, own event loop.
            db = Database(database_url)
            rt = make_runtime(db)

            async def run() -> int:
                bot = Bot(TOKEN, base_url=server.api_url)
                await bot.initialize()
                try:
                    return await drain_outbox(bot, rt)
                finally:
                    await bot.shutdown()

            try:
                return asyncio.run(run())
            finally:
                db.dispose()

        sent = await asyncio.gather(asyncio.to_thread(one_sender), asyncio.to_thread(one_sender))
    finally:
        await server.stop()
    assert sum(sent) == len(users)
    assert all(count > 0 for count in sent), sent  # both really took part
    for user_id in users:
        assert _received(emulator, user_id) == [f"Halo {user_id}"]
    check = Database(database_url)
    assert _statuses(check) == {"sent": len(users)}
    check.dispose()


async def test_a_429_is_waited_out_and_nothing_is_lost(make_bot, database_url):
    bot = await make_bot(database_url, flood_limits=True)
    # Pretend the budget knows nothing of the limits (a rate set far too high): Telegram's
    # 429 is then what keeps the sender in line.
    outbox_sender(bot.rt).limiter = SendLimiter(chat_interval=0.0)
    loose = SharedBudget(bot.rt.db, 1000) if bot.rt.db.is_postgres else LocalBudget(1000)
    use_budget(bot.rt, loose)
    users = list(range(2000, 2100))  # far past the bot's burst of 30, at once
    _start_users(bot.emulator, users)
    _queue(bot.rt.db, users)
    _queue(bot.rt.db, [2000] * 5, text="lagi {id}")
    sent = 0
    for _ in range(120):  # the five to one chat go a second apart; a busy machine is slower
        sent += await drain_outbox(bot.app, bot.rt)
        if _statuses(bot.rt.db) == {"sent": 105}:
            break
        await asyncio.sleep(0.5)
    flood = [e for e in bot.emulator.errors if e["error_code"] == 429]
    assert flood, "the emulator never said 429: the test did not test anything"
    assert _statuses(bot.rt.db) == {"sent": 105}
    for user_id in users[1:]:
        assert _received(bot.emulator, user_id) == [f"Halo {user_id}"]
    assert _received(bot.emulator, 2000) == ["Halo 2000"] + ["lagi 2000"] * 5
    with bot.rt.db.session() as s:
        # A 429 is not a failed attempt.
        assert {row.attempts for row in s.exec(select(OutboxMessage)).all()} == {1}


async def test_a_user_who_blocked_the_bot_is_marked_and_skipped(make_bot, database_url):
    bot = await make_bot(database_url)
    citizen = bot.user(3001)
    await citizen.send("/start")
    await citizen.reply()
    citizen.block_bot()
    _queue(bot.rt.db, [3001, 3001], text="status {id}")
    await drain_outbox(bot.app, bot.rt)
    with bot.rt.db.session() as s:
        assert s.get(User, 3001).unreachable_since is not None
        rows = s.exec(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"dropped"}
        assert all("blocked" in r.last_error for r in rows)
    # Writing to the bot again unblocks it; from then on messages flow again.
    await citizen.send("/start")
    await citizen.reply()
    _queue(bot.rt.db, [3001], text="kembali {id}")
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=2))
    assert (await citizen.reply()).text == "kembali 3001"


async def test_a_refused_message_fails_and_admins_see_it(make_bot, database_url):
    bot = await make_bot(database_url, admin_ids=[1])
    admin = bot.user(1)
    await admin.send("/start")
    await admin.reply()
    with bot.rt.db.session() as s:
        enqueue(s, chat_id=1, text="<b>unclosed")
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=2))
    assert _statuses(bot.rt.db) == {"failed": 1}
    await admin.send("/outbox")
    report = await admin.reply()
    assert "gagal: 1" in report.text
    assert "BadRequest" in report.text
    citizen = bot.user(2)
    await citizen.send("/outbox")
    unknown = await citizen.reply()
    await citizen.send("/tidakada")
    assert (await citizen.reply()).text == unknown.text


async def test_any_bot_api_method_can_be_queued(make_bot, database_url):
    bot = await make_bot(database_url)
    citizen = bot.user(3101)
    await citizen.send("/start")
    await citizen.reply()
    with bot.rt.db.session() as s:
        enqueue(s, chat_id=3101, method="sendLocation", latitude=-6.59, longitude=106.81)
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=2))
    location = await citizen.reply()
    assert location.location["latitude"] == -6.59


async def test_the_outbox_counts_its_sends_403s_and_delays(make_bot, database_url):
    bot = await make_bot(database_url)
    reader, blocker = bot.user(5101), bot.user(5102)
    await reader.send("/start")
    await reader.reply()
    await blocker.send("/start")
    await blocker.reply()
    blocker.block_bot()
    with bot.rt.db.session() as s:
        enqueue(s, chat_id=5101, text="Status berubah")
        enqueue(s, chat_id=5102, text="Status berubah")
    sent, forbidden, delays = (METRICS.messages_sent.value, METRICS.forbidden.value,
                               _delays_observed())
    assert await drain_outbox(bot.app, bot.rt) == 1
    assert METRICS.messages_sent.value == sent + 1
    assert METRICS.forbidden.value == forbidden + 1
    assert _delays_observed() == delays + 1


def _delays_observed() -> float:
    return METRICS.registry.get_sample_value("servicebot_outbox_delay_seconds_count") or 0.0
