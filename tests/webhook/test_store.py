"""The handled-update record without Telegram: taking an update once, pruning, taking over
orphans, the reply journal, what may go in the webhook's answer, dead instances."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.db import Database
from bot.core.models import utcnow
from bot.webhook.answer import WebhookAnswer, fits_webhook_answer
from bot.webhook.journal import ReplyJournal, changes_something
from bot.webhook.store import (
    LEASE,
    Orphan,
    ProcessedUpdate,
    admit_update,
    finish_updates,
    prune_processed,
    read_replies,
    retake_orphans,
    take_update,
    webhook_answer_for,
    write_replies,
)
from tests.support.moments import NOON

# --- handled updates ------------------------------------------------------------------------


def claim_update(db: Database, update_id: int, *, now: datetime | None = None) -> bool:
    """The take without a flood count: False when some process already took the update."""
    return admit_update(db, update_id, user_id=None, flood_limit=0, now=now) != "duplicate"


def test_an_update_is_claimed_once(db):
    assert claim_update(db, 500) is True
    assert claim_update(db, 500) is False
    assert claim_update(db, 501) is True


@pytest.mark.postgres
def test_concurrent_claims_of_one_update_give_one_winner(postgres_url):
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(claim_update(db, 777))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.dispose()
    assert sorted(results) == [False] * 7 + [True]


def test_old_handled_ids_are_pruned(db):
    claim_update(db, 1, now=NOON - timedelta(hours=49))
    claim_update(db, 2, now=NOON - timedelta(hours=47))
    with db.session() as s:
        assert prune_processed(s, now=NOON) == 1
    with db.session() as s:
        assert [r.update_id for r in s.exec(select(ProcessedUpdate)).all()] == [2]




def test_an_orphaned_webhook_update_is_retaken_once_after_the_lease(db):
    payload = {"update_id": 42, "message": {"text": "hi"}}
    assert take_update(db, 42, payload, user_id=7, flood_limit=1, now=NOON) == "ok"
    assert take_update(db, 42, payload, user_id=7, flood_limit=1, now=NOON) == "duplicate"
    assert take_update(db, 43, {"update_id": 43}, user_id=7, flood_limit=1, now=NOON) == "notify"
    finish_updates(db, [43], now=NOON + timedelta(seconds=1))
    # Within the lease the owner may still be working on it.
    assert retake_orphans(db, now=NOON + LEASE - timedelta(seconds=1)) == []
    later = NOON + LEASE + timedelta(seconds=1)
    assert retake_orphans(db, now=later) == [Orphan(payload, {})]
    # Retaking renewed the lease: nobody else takes it now.
    assert retake_orphans(db, now=later) == []
    finish_updates(db, [42], now=later)
    assert retake_orphans(db, now=later + 2 * LEASE) == []
    with db.session() as s:
        rows = s.exec(select(ProcessedUpdate).order_by(ProcessedUpdate.update_id)).all()
        assert [(r.update_id, r.payload, r.finished_at is not None) for r in rows] == [
            (42, None, True), (43, None, True)
        ]


def test_an_instance_does_not_take_over_the_updates_it_has_in_hand(db):
    """SQLite (one process): its own update waiting longer than the lease is not retaken."""
    assert take_update(db, 53, {"update_id": 53}, now=NOON) == "ok"
    later = NOON + 2 * LEASE
    assert retake_orphans(db, now=later, exclude=[53]) == []
    if not db.is_postgres:  # after a restart nothing is in hand: it is retaken
        assert retake_orphans(db, now=later) == [Orphan({"update_id": 53}, {})]


def test_an_orphan_comes_back_with_what_it_had_sent_and_finishing_drops_it(db):
    payload = {"update_id": 50, "callback_query": {"id": "q1"}}
    assert take_update(db, 50, payload, now=NOON) == "ok"
    sent = {
        "answerCallbackQuery#1": '{"ok":true,"result":true}',
        "editMessageText#1": '{"ok":true,"result":{"message_id":9,"text":"Tanya 2/9 \u2014 é"}}',
    }
    write_replies(db, 50, {"answerCallbackQuery#1": sent["answerCallbackQuery#1"]})
    write_replies(db, 50, sent)  # the whole record each time; the last one stands
    later = NOON + LEASE + timedelta(seconds=1)
    assert retake_orphans(db, now=later) == [Orphan(payload, sent)]
    finish_updates(db, [50], now=later)
    with db.session() as s:
        row = s.get(ProcessedUpdate, 50)
        assert (row.payload, row.replies) == (None, None)


def test_a_journal_answers_repeated_calls_by_method_and_order(db):
    assert take_update(db, 51, {"update_id": 51}, now=NOON) == "ok"
    first = ReplyJournal(db, 51)
    assert not first.retaken
    key, recorded = first.next_call("sendMessage")
    assert (key, recorded) == ("sendMessage#1", None)
    first.record(key, b'{"ok":true,"result":{"message_id":1}}')
    first.next_call("sendMessage")  # refused by Telegram (say, 403): nothing recorded
    key, _ = first.next_call("sendMessage")
    first.record(key, b'{"ok":true,"result":{"message_id":2}}')
    key, _ = first.next_call("answerCallbackQuery")
    first.record(key, b'{"ok":true,"result":true}')
    # Killed here. The retake takes another path: the callback answered first, then the
    # messages. The failed second message keeps its place: made again, not answered with the
    # third's response.
    retake = ReplyJournal(db, 51, retake_orphans(db, now=NOON + 2 * LEASE)[0].replies)
    assert retake.retaken
    assert retake.next_call("answerCallbackQuery")[1] == b'{"ok":true,"result":true}'
    assert retake.next_call("sendMessage")[1] == b'{"ok":true,"result":{"message_id":1}}'
    assert retake.next_call("sendMessage") == ("sendMessage#2", None)
    assert retake.next_call("sendMessage")[1] == b'{"ok":true,"result":{"message_id":2}}'
    assert retake.next_call("sendMessage") == ("sendMessage#4", None)
    # Only a retaken button press is excused for being too old, and only that failure.
    too_old = b'{"ok":false,"description":"Bad Request: query is too old and response timeout'
    assert retake.excuse("answerCallbackQuery", 400, too_old) == b'{"ok":true,"result":true}'
    assert retake.excuse("answerCallbackQuery", 400, b'{"description":"MESSAGE_TOO_LONG"}') is None
    assert retake.excuse("sendMessage", 400, too_old) is None
    assert first.excuse("answerCallbackQuery", 400, too_old) is None
    assert [changes_something(m) for m in ("getMe", "getFile", "sendMessage", "setMyCommands")] == [
        False, False, True, True
    ]


def test_a_journal_the_database_cannot_take_lets_the_handler_go_on(caplog):
    away = Database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    try:
        journal = ReplyJournal(away, 52)
        with caplog.at_level(logging.WARNING, logger="bot.webhook.journal"):
            journal.record("sendMessage#1", b'{"ok":true,"result":{"message_id":3}}')
    finally:
        away.dispose()
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":3}}'}
    assert "could not record its sendMessage#1" in caplog.text


async def test_the_last_message_goes_in_the_webhook_answer_written_down_first(db):
    assert take_update(db, 53, {"update_id": 53}, now=NOON) == "ok"
    answer = WebhookAnswer()
    journal = ReplyJournal(db, 53, answer=answer, chat_id=7)
    calls: list[str] = []

    def sender(name: str):  # noqa: ANN202
        async def send() -> tuple[int, bytes]:
            calls.append(name)
            return 200, b'{"ok":true,"result":{"message_id":8}}'
        return send

    first = {"chat_id": 7, "text": "<b>Satu</b> &amp; dua", "parse_mode": "HTML"}
    second = {"chat_id": 7, "text": "Tiga", "reply_markup": {"inline_keyboard": [
        [{"text": "Ya", "callback_data": "pd:erase"}]]}}
    key, _ = journal.next_call("sendMessage")
    assert journal.may_hold("sendMessage", first)
    # Only to the update's own chat: elsewhere Telegram may refuse (a chat never opened).
    assert not journal.may_hold("sendMessage", {**first, "chat_id": 8})
    assert journal.may_hold("sendMessage", {**first, "chat_id": "7"})
    assert not ReplyJournal(db, 53, answer=answer).may_hold("sendMessage", first)
    stand_in = json.loads(journal.hold(key, first, sender("first")))
    assert stand_in["result"]["message_id"] == 0
    assert stand_in["result"]["chat"] == {"id": 7, "type": "private"}
    # Another call comes: the held message goes first, as a call, and is journaled.
    key, _ = journal.next_call("sendMessage")
    await journal.release()
    assert calls == ["first"]
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":8}}'}
    journal.hold(key, second, sender("second"))
    assert not answer.ready.is_set()
    await journal.settle()
    assert calls == ["first"]  # the second went in the answer, not as a call
    assert answer.ready.is_set() and not answer.waiting
    assert answer.close() == {"method": "sendMessage", **second}
    # Written before it was given: a retake does not send it, a redelivery gets it again.
    assert "sendMessage#2" in journal.entries
    assert webhook_answer_for(db, 53) == ({"method": "sendMessage", **second}, False)
    finish_updates(db, [53])
    assert webhook_answer_for(db, 53) == ({"method": "sendMessage", **second}, True)
    assert webhook_answer_for(db, 54) == (None, True)


async def test_a_held_message_goes_as_a_call_once_the_webhook_stops_waiting(db):
    assert take_update(db, 55, {"update_id": 55}, now=NOON) == "ok"
    answer = WebhookAnswer()
    journal = ReplyJournal(db, 55, answer=answer, chat_id=7)
    sent: list[int] = []

    async def send() -> tuple[int, bytes]:
        sent.append(1)
        return 200, b'{"ok":true,"result":{"message_id":9}}'

    key, _ = journal.next_call("sendMessage")
    journal.hold(key, {"chat_id": 7, "text": "late"}, send)
    assert answer.close() is None  # ANSWER_TIMEOUT: the webhook answered empty
    assert not journal.may_hold("sendMessage", {"chat_id": 7, "text": "next"})
    await journal.settle()
    assert sent == [1]
    assert webhook_answer_for(db, 55) == (None, False)
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":9}}'}


async def test_a_held_message_refused_with_429_is_sent_after_the_wait(db, caplog):
    journal = ReplyJournal(db, 56, answer=None)
    answers = iter([
        (429, b'{"ok":false,"error_code":429,"parameters":{"retry_after":0}}'),
        (200, b'{"ok":true,"result":{"message_id":4}}'),
        (403, b'{"ok":false,"description":"Forbidden: bot was blocked by the user"}'),
    ])

    async def send() -> tuple[int, bytes]:
        return next(answers)

    journal.hold("sendMessage#1", {"chat_id": 7, "text": "a"}, send)
    await journal.release()
    assert journal.entries["sendMessage#1"] == '{"ok":true,"result":{"message_id":4}}'
    journal.hold("sendMessage#2", {"chat_id": 7, "text": "b"}, send)
    with caplog.at_level(logging.ERROR, logger="bot.webhook.journal"):
        await journal.release()
    assert "sendMessage#2" not in journal.entries
    assert "could not be sent (403)" in caplog.text


async def test_a_held_message_lost_to_the_network_does_not_fail_the_next_call(db, caplog):
    """The handler was told it was sent: the error is logged, not raised into its next call."""
    from telegram.error import NetworkError

    journal = ReplyJournal(db, 57, answer=None)

    async def send() -> tuple[int, bytes]:
        raise NetworkError("aiohttp.ClientOSError: connection reset")

    journal.hold("sendMessage#1", {"chat_id": 7, "text": "a"}, send)
    with caplog.at_level(logging.WARNING, logger="bot.webhook.journal"):
        await journal.release()
        await journal.settle()
    assert journal.held is None and journal.entries == {}
    # Transient: one warning line with the reason, no error.
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "could not be sent (NetworkError: aiohttp.ClientOSError" in record.getMessage()


def test_a_journal_write_that_failed_is_not_taken_for_written(db, monkeypatch):
    from bot.webhook import journal as journal_module

    assert take_update(db, 58, {"update_id": 58}, now=NOON) == "ok"
    journal = ReplyJournal(db, 58)

    def away(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("database away")

    monkeypatch.setattr(journal_module, "write_replies", away)
    journal.record("sendVenue#1", b'{"ok":true,"result":{"message_id":5}}')
    assert "sendVenue#1" in journal.entries and not journal.written("sendVenue#1")
    monkeypatch.undo()
    journal.record("sendVenue#1", b'{"ok":true,"result":{"message_id":5}}')
    assert journal.written("sendVenue#1")
    assert read_replies(retake_orphans(db, now=NOON + 2 * LEASE)[0].replies) == journal.entries


@pytest.mark.parametrize(
    "params",
    [
        {"chat_id": 7, "text": "plain <b> is fine without parse_mode"},
        {"chat_id": 7, "text": "<b>bold</b> <i>i</i> <a href=\"https://x.id\">a</a> &lt;&#128512;",
         "parse_mode": "HTML"},
        {"chat_id": "7", "text": "<code>a &amp; b</code>", "parse_mode": "HTML",
         "link_preview_options": {"is_disabled": True}},
    ],
)
def test_what_goes_in_a_webhook_answer_telegram_takes(params):
    from bot.emulator.core import Emulator

    assert fits_webhook_answer(params)

    async def sent() -> dict:
        emulator = Emulator()
        emulator.add_user(7, "Citizen")
        emulator.send_text(7, "/start")
        return await emulator.call("sendMessage", dict(params))

    assert asyncio.run(sent())["message_id"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"chat_id": 7, "text": "a < b", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<b>open", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<b><i>x</b></i>", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<div>x</div>", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "a&nbsp;b", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "x" * 4097},
        {"chat_id": 7, "text": "\U0001f600" * 2049},  # 4098 UTF-16 units
        {"chat_id": 7, "text": "   "},
        {"chat_id": 7, "text": "*x*", "parse_mode": "MarkdownV2"},
        {"chat_id": 7, "text": "x", "entities": [{"type": "bold", "offset": 0, "length": 1}]},
        {"chat_id": 7, "text": "x", "reply_parameters": {"message_id": 5}},
        {"chat_id": 7, "text": "x", "reply_markup": {"inline_keyboard": [
            [{"text": "y", "callback_data": "z" * 65}]]}},
    ],
)
def test_what_telegram_might_refuse_goes_as_a_call(params):
    """The answer's outcome is never known: only what Telegram surely takes goes in it."""
    assert not fits_webhook_answer(params)


@pytest.mark.postgres
def test_a_dead_instances_updates_are_taken_over_at_once_a_live_ones_are_not(postgres_url):
    from bot.webhook.chat_locks import ChatLocks
    from bot.webhook.liveness import Liveness, live_instances
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    alive, dying, taker = Liveness(db), Liveness(db), Liveness(db)
    try:
        for instance in (alive, dying, taker):
            instance.start()
        assert {alive.key, dying.key, taker.key} <= set(live_instances(db))
        now = utcnow()
        assert take_update(db, 60, {"update_id": 60}, now=now, taken_by=alive.key) == "ok"
        assert take_update(db, 61, {"update_id": 61}, now=now, taken_by=dying.key) == "ok"
        assert retake_orphans(db, now=now, taken_by=taker.key) == []
        dying.stop()  # as its connection closing with a killed process
        assert dying.key not in live_instances(db)
        assert retake_orphans(db, now=now, taken_by=taker.key) == [Orphan({"update_id": 61}, {})]
        # Now the taker's: not taken again while it lives, however often the others look.
        assert retake_orphans(db, now=now, taken_by=alive.key) == []
        # A live instance's update is not taken from it, however long it waits there.
        later = now + 3 * LEASE
        assert retake_orphans(db, now=later, taken_by=taker.key) == []
        with db.session() as s:
            assert {r.update_id: r.taken_by for r in s.exec(select(ProcessedUpdate)).all()} == {
                60: alive.key, 61: taker.key
            }
        # With the chat lock, an instance learns whether an update is still its own.
        async def mine(owner: Liveness, update_id: int) -> bool:
            async with ChatLocks(db, owner=owner).hold(7, update_id) as holding:
                return holding.mine

        assert asyncio.run(mine(alive, 60)) and not asyncio.run(mine(taker, 60))
        assert asyncio.run(mine(taker, 61)) and not asyncio.run(mine(dying, 61))
        finish_updates(db, [61], now=now)
        assert not asyncio.run(mine(taker, 61))
        # A lost lock connection is noticed: a new key, whose lock is held; the old key's
        # updates go to the others, and are no longer this instance's.
        old_key = alive.key
        alive._conn.invalidate()
        alive.ensure()
        assert alive.key != old_key and alive.key in live_instances(db)
        assert old_key not in live_instances(db)
        assert retake_orphans(db, now=now, taken_by=taker.key) == [Orphan({"update_id": 60}, {})]
        assert not asyncio.run(mine(alive, 60))
    finally:
        for instance in (alive, dying, taker):
            instance.stop()
        db.dispose()
