"""Malformed requests to the webhook and the back-office API get 400/422, never a 500, and
an update that can never be handled is not retried forever."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.api import MAX_BODY_BYTES, create_api_app
from bot.applications import Application
from bot.models import utcnow
from bot.scaleout import LEASE, ProcessedUpdate, take_update
from tests.status_support import make_runtime
from tests.test_webhook import emulated, post  # noqa: F401 - emulated is a fixture

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
    caplog.set_level(logging.WARNING, logger="bot.server")
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
    caplog.set_level(logging.WARNING, logger="bot.server")
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


# --- the back-office API ---------------------------------------------------------------------

API_TOKEN = "t0ken-for-the-bad-input-tests-0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def api(db):
    app = create_api_app(make_runtime(db, api_tokens=[API_TOKEN]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api") as client:
        yield client


async def test_api_refuses_bad_bodies_with_400_413_422(api, db):
    create = "/api/v1/applications"
    nested = b'{"service_id": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    long_number = b'{"service_id": "ktp-el", "applicant_name": ' + b"7" * 5000 + b"}"
    for body in (nested, long_number):
        response = await api.post(create, content=body, headers=AUTH)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "bad_json"
    for body in ({"service_id": "ktp-el", "applicant_name": "Sa\x00ri"},
                 {"service_id": "ktp-el", "applicant_name": "Sari", "phone": "0812\x00"},
                 {"service_id": "ktp\x00", "applicant_name": "Sari"}):
        response = await api.post(create, json=body, headers=AUTH)
        assert response.status_code == 422, response.text
        assert "control characters" in response.text
    created = await api.post(create, json={"service_id": "ktp-el", "applicant_name": "Sari"},
                             headers=AUTH)
    number = created.json()["tracking_number"]
    response = await api.post(f"{create}/{number}/status",
                              json={"status": "rejected", "note": "berkas\x00 kurang"},
                              headers=AUTH)
    assert response.status_code == 422 and "control characters" in response.text
    response = await api.get(f"{create}/K7QM%003XPA", headers=AUTH)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    with db.session() as s:
        assert len(s.exec(select(Application)).all()) == 1


async def test_api_caps_the_body_before_reading_it(api):
    big = b'{"service_id": "' + b"a" * (MAX_BODY_BYTES + 1) + b'"}'
    response = await api.post("/api/v1/applications", content=big, headers=AUTH)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    read = []

    async def endless():
        for _ in range(1000):  # 50 MB if it were read whole
            read.append(1)
            yield b" " * 50_000

    response = await api.post("/api/v1/applications", content=endless(), headers=AUTH)
    assert response.status_code == 413
    assert len(read) < 10  # stopped after the cap, not after 50 MB


async def test_api_ikm_period_out_of_range_and_unknown_paths(api):
    for period in ("0001", "0001-01", "0001-01-01..0001-01-02", "9999"):
        response = await api.get("/api/v1/ikm", params={"period": period}, headers=AUTH)
        assert response.status_code == 422, (period, response.text)
    response = await api.get("/api/v1/nothing-here", headers=AUTH)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    response = await api.delete("/api/v1/applications", headers=AUTH)
    assert response.status_code == 405 and response.json()["error"]["code"] == (
        "method_not_allowed"
    )
