"""Update ids met again: a restarted emulator, Telegram renumbering, another bot on the same
database. A redelivery (same content) is dropped; a new update that reuses an id is answered."""

from __future__ import annotations

import json
import logging
import signal

from bot.emulator import Emulator
from bot.webhook.store import (
    ProcessedUpdate,
    admit_update,
    finish_updates,
    take_update,
    update_fingerprint,
)
from tests.offline.test_offline import _address, _get, _post, _start, _stop
from tests.support.e2e import TOKEN


def _message(update_id: int, text: str, message_id: int = 1) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1_780_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Sari"},
            "from": {"id": 42, "is_bot": False, "first_name": "Sari"},
            "text": text,
        },
    }


def test_the_fingerprint_leaves_out_the_id_and_not_the_content():
    assert update_fingerprint(_message(7, "halo")) == update_fingerprint(_message(8, "halo"))
    assert update_fingerprint(_message(7, "halo")) != update_fingerprint(_message(7, "hallo"))
    assert update_fingerprint(_message(7, "a", 1)) != update_fingerprint(_message(7, "a", 2))


def test_a_redelivery_is_a_duplicate_and_a_reused_id_is_a_new_update(db, caplog):
    first = _message(100_000, "syarat ktp")
    assert take_update(db, 100_000, first) == "ok"
    assert take_update(db, 100_000, first) == "duplicate"  # Telegram sending it again
    finish_updates(db, [100_000])

    second = _message(100_000, "biaya paspor", message_id=9)
    with caplog.at_level(logging.WARNING, logger="bot.webhook.store"):
        assert take_update(db, 100_000, second, taken_by=5) == "ok"
    assert "update 100000: this id was handled before with other content" in caplog.text
    with db.session() as session:
        row = session.get(ProcessedUpdate, 100_000)
        assert row.payload == second
        assert row.finished_at is None and row.taken_by == 5 and row.answer is None
    # ... and that new update's own redelivery is a duplicate again.
    assert take_update(db, 100_000, second) == "duplicate"


def test_polling_drops_a_redelivery_and_answers_a_reused_id(db):
    hello = update_fingerprint(_message(3, "halo"))
    assert admit_update(db, 3, user_id=42, flood_limit=0, fingerprint=hello) == "ok"
    assert admit_update(db, 3, user_id=42, flood_limit=0, fingerprint=hello) == "duplicate"
    other = update_fingerprint(_message(3, "makasih", 2))
    assert admit_update(db, 3, user_id=42, flood_limit=0, fingerprint=other) == "ok"
    # Without a fingerprint nothing can be compared: a known id stays a duplicate.
    assert admit_update(db, 3, user_id=42, flood_limit=0) == "duplicate"


def test_a_restarted_emulator_never_hands_out_an_old_update_id():
    first = Emulator()
    first.add_user(1, "Sari")
    for n in range(50):
        first.send_text(1, f"pesan {n}")
    last = max(update["update_id"] for update in first.updates)
    second = Emulator()
    second.add_user(1, "Sari")
    second.send_text(1, "halo lagi")
    assert second.updates[0]["update_id"] > last


async def test_a_bot_answers_after_telegram_restarts_its_update_ids(make_bot, database_url):
    """Telegram may number updates from a new value after a quiet week, or the database may be
    moved to a bot whose ids overlap: the first message after that still gets its answer."""
    first = await make_bot(database_url, emulator=Emulator(TOKEN, first_update_id=100_000))
    sari = first.user(1001, first_name="Sari", language_code="id")
    await sari.send("/start")
    assert (await sari.reply()).text.startswith("Halo!")
    await first.stop()

    second = await make_bot(database_url, emulator=Emulator(TOKEN, first_update_id=100_000))
    budi = second.user(1002, first_name="Budi", language_code="id")
    await budi.send("/start")  # update 100000 again, with other content
    assert (await budi.reply()).text.startswith("Halo!")


def _first_bot_text(url: str, user_id: int, text: str) -> str | None:
    import time

    _post(url + f"/_emulator/users/{user_id}/messages", {"text": text})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        _, body = _get(url + f"/_emulator/users/{user_id}/messages?after=0&timeout=5")
        bot_events = [e for e in json.loads(body)["events"] if e["kind"] == "bot"]
        if bot_events:
            return bot_events[0]["message"]["text"]
    return None


def test_the_offline_bot_restarted_on_its_database_answers_the_first_message(tmp_path):
    """`make run` stopped and started again: the first message of the new run is answered."""
    for run in range(2):
        proc = _start(tmp_path, "offline", "--port", "0")
        try:
            _, url, _port = _address(proc)
            user = {"id": 501, "first_name": "Sari", "language_code": "id"}
            _post(url + "/_emulator/users", user)
            greeting = _first_bot_text(url, 501, "/start")
            assert greeting is not None, f"run {run + 1}: no reply to the first message"
            assert greeting.startswith("Halo!")
        finally:
            out, err = _stop(proc, signal.SIGINT)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
