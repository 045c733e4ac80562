"""Malformed requests to the webhook get a 400, never a 500, and an update that can never be
handled is not retried forever."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from bot.core.models import utcnow
from bot.webhook.store import LEASE, ProcessedUpdate, take_update
from tests.webhook.test_server import emulated, post  # noqa: F401 - emulated is a fixture

DEEP = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LONG_NUMBER = b'{"update_id": ' + b"9" * 5000 + b"}"


def _message(update_id, chat_id=5, user_id=5) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 0, "text": "hi",
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "X"},
        },
    }


async def test_webhook_refuses_unreadable_json_and_ids(emulated, sqlite_db):  # noqa: F811
    instance = await emulated.start_instance(sqlite_db.url)
    for body in (DEEP, LONG_NUMBER, {"update_id": True}, {"update_id": 10**30},
                 {"update_id": -(2**63) - 1}):
        response = await post(instance.webhook, body)
        assert response.status_code == 400, (str(body)[:60], response.status_code)
    with sqlite_db.session() as s:
        assert s.exec(select(ProcessedUpdate)).all() == []


async def test_an_update_with_a_broken_id_is_answered_and_never_stored(
    emulated, sqlite_db, caplog  # noqa: F811
):
    instance = await emulated.start_instance(sqlite_db.url)
    caplog.set_level(logging.WARNING, logger="bot.webhook.server")
    for update in (_message(11, chat_id="x"), _message(12, user_id=True),
                   _message(13, chat_id=2**64)):
        response = await post(instance.webhook, update)
        assert response.status_code == 200
    with sqlite_db.session() as s:
        assert s.exec(select(ProcessedUpdate)).all() == []
    reasons = [r.getMessage() for r in caplog.records if "not handled" in r.getMessage()]
    assert reasons == [
        "update 11 not handled: update.message.chat.id is not an integer id",
        "update 12 not handled: update.message.from.id is not an integer id",
        "update 13 not handled: update.message.chat.id is not an integer id",
    ]
    # The instance goes on serving.
    citizen = emulated.user(2002)
    await citizen.send("/help")
    await citizen.reply()


async def test_a_stored_update_with_a_broken_id_is_finished_not_retaken(
    emulated, db, caplog  # noqa: F811
):
    instance = await emulated.start_instance(db.url)
    caplog.set_level(logging.WARNING, logger="bot.webhook.server")
    long_ago = utcnow() - LEASE - timedelta(seconds=1)
    # Stored by an instance from before the check, which then died.
    assert take_update(db, 21, _message(21, chat_id="x"), now=long_ago) == "ok"
    server = instance.app.state.server
    assert server.recover_once() == 1
    server.flush_finished()
    with db.session() as s:
        row = s.exec(select(ProcessedUpdate).where(ProcessedUpdate.update_id == 21)).one()
        assert row.finished_at is not None
    assert server.recover_once() == 0
    assert any("update 21 marked finished unhandled: update.message.chat.id is not an integer id"
               in r.getMessage() for r in caplog.records)
    assert emulated.bot_errors == []
