"""Malformed requests to the back-office API get 400, 413 or 422, never a 500, and JSON for
unknown paths and methods."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bot.applications.api import MAX_BODY_BYTES, create_api_app
from bot.applications.models import Application
from tests.support.applications import make_runtime

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
