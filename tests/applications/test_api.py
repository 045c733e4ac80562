"""The back-office HTTP API against the ASGI app: tokens, validation, the same rules as the chat."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bot.applications.api import create_api_app
from bot.applications.lookup import follow
from bot.applications.service import get_application
from bot.core.models import AuditEntry
from bot.outbox.models import OutboxMessage
from tests.support.applications import make_runtime

TOKEN = "t0ken-for-the-back-office-0123456789"


@pytest.fixture
def rt(db):
    return make_runtime(db, api_tokens=[TOKEN, "another-token-of-the-office-xyz"])


@pytest.fixture
async def client(rt):
    transport = httpx.ASGITransport(app=create_api_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_without_a_valid_token_nothing_happens(client, rt):
    body = {"service_id": "ktp-el", "applicant_name": "Siti"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = await client.post("/api/v1/applications", json=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"
    response = await client.get("/api/v1/applications/K7QM-3XPA")
    assert response.status_code == 401
    with rt.db.session() as s:
        assert s.exec(select(AuditEntry)).all() == []


async def test_register_read_and_move_an_application(client, rt):
    response = await client.post(
        "/api/v1/applications",
        json={"service_id": "ktp-el", "applicant_name": " Siti Aminah ", "phone": "0812-3456-789"},
        headers=AUTH,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "received"
    assert created["applicant_name"] == "Siti Aminah"
    assert len(created["verification_code"]) == 6
    number = created["tracking_number"]
    with rt.db.session() as s:
        follow(s, application=get_application(s, number), user_id=77)

    response = await client.post(
        f"/api/v1/applications/{number.lower().replace('-', '')}/status",
        json={"status": "in_process", "note": "Berkas <lengkap>"},
        headers={"Authorization": "Bearer another-token-of-the-office-xyz"},
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["status"] == "in_process"
    assert moved["status_label"] == "Sedang diproses"
    assert [e["status"] for e in moved["history"]] == ["received", "in_process"]
    assert moved["history"][1]["source"] == "api"
    assert "verification_code" not in moved

    response = await client.get(f"/api/v1/applications/{number}", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["allowed_next"] == [
        "needs_correction", "ready_for_pickup", "completed", "rejected"
    ]
    with rt.db.session() as s:
        (notice,) = s.exec(select(OutboxMessage)).all()
    assert notice.chat_id == 77
    assert "Berkas &lt;lengkap&gt;" in notice.payload["text"]


async def test_an_illegal_move_is_refused_with_the_reason(client, rt):
    created = (
        await client.post(
            "/api/v1/applications",
            json={"service_id": "ktp-el", "applicant_name": "Budi"},
            headers=AUTH,
        )
    ).json()
    url = f"/api/v1/applications/{created['tracking_number']}/status"
    assert (await client.post(url, json={"status": "completed"}, headers=AUTH)).status_code == 200
    response = await client.post(url, json={"status": "in_process"}, headers=AUTH)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_move"
    assert "already completed" in error["message"]
    response = await client.post(url, json={"status": "rejected"}, headers=AUTH)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/api/v1/applications", {"service_id": "ktp-el"}, 422, "applicant_name"),
        ("/api/v1/applications", {"service_id": "nope", "applicant_name": "Ani"}, 422,
         "Unknown service"),
        ("/api/v1/applications", {"service_id": "ktp-el", "applicant_name": "Ani",
                                  "phone": "call me"}, 422, "phone number"),
        ("/api/v1/applications", {"service_id": "ktp-el", "applicant_name": "Ani",
                                  "admin": True}, 422, "admin"),
        ("/api/v1/applications/K7QM-3XPA/status", {"status": "done"}, 422, "status"),
        ("/api/v1/applications/K7QM-3XP/status", {"status": "completed"}, 404,
         "not a valid tracking number"),
    ],
)
async def test_bad_fields_get_a_clear_json_error(client, path, body, status, fragment):
    response = await client.post(path, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert fragment in response.text


async def test_a_body_that_is_not_json(client):
    response = await client.post(
        "/api/v1/applications",
        content=b"service=ktp",
        headers={**AUTH, "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"


async def test_openapi_describes_the_three_endpoints(client):
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/applications",
        "/api/v1/applications/{tracking_number}",
        "/api/v1/applications/{tracking_number}/status",
        "/api/v1/ikm",
    }
    assert "StatusIn" in spec["components"]["schemas"]


def test_a_short_api_token_is_a_configuration_error(monkeypatch):
    from bot.core.config import load_settings
    from bot.core.errors import ConfigError

    monkeypatch.setenv("API_TOKENS", "good-token-of-the-back-office-123,short")
    with pytest.raises(ConfigError, match="^API_TOKENS: each token must be at least 24"):
        load_settings()
    monkeypatch.setenv("API_TOKENS", " good-token-of-the-back-office-123 , ")
    assert load_settings().api_tokens == ["good-token-of-the-back-office-123"]
