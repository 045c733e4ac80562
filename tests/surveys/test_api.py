"""The index over the back-office HTTP API: the same report as /ikm, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.applications.api import create_api_app
from bot.surveys.models import ANSWERED, SurveyInvitation, SurveyResponse
from tests.support.applications import make_runtime

TOKEN = "t0ken-for-the-back-office-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def rt(db):
    return make_runtime(db, api_tokens=[TOKEN])


@pytest.fixture
async def client(rt):
    transport = httpx.ASGITransport(app=create_api_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c


async def test_ikm_as_json(client, rt):
    moment = datetime(2026, 11, 5, 3, 0, tzinfo=UTC)
    with rt.db.session() as s:
        for number, value in enumerate((4, 3)):
            invitation = SurveyInvitation(transaction_key=f"t{number}", user_id=number,
                                          service_id="ktp-el", status=ANSWERED, due_at=moment)
            s.add(invitation)
            s.flush()
            s.add(SurveyResponse(invitation_id=invitation.id, service_id="ktp-el",
                                 started_at=moment, completed_at=moment,
                                 **{f"u{n}": value for n in range(1, 10)}))
    assert (await client.get("/api/v1/ikm?period=2026-11")).status_code == 401
    response = await client.get("/api/v1/ikm?period=2026-11", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["period"], body["from"], body["until"]) == ("2026-11", "2026-11-01", "2026-11-30")
    assert body["rule"] == "14/2017"
    [group] = body["groups"]
    assert group["key"] == "ktp-el" and group["respondents"] == 2
    assert group["nrr"]["U1"] == 3.5
    assert (body["overall"]["index"], body["overall"]["grade"]) == ("87.50", "B")
    bad = await client.get("/api/v1/ikm?period=last-week", headers=AUTH)
    assert bad.status_code == 422 and "2026-Q3" in bad.json()["error"]["message"]
    bad = await client.get("/api/v1/ikm?by=officer", headers=AUTH)
    assert bad.status_code == 422
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "/api/v1/ikm" in paths


async def test_completion_through_the_api_schedules_the_invitation(client, rt):
    from sqlmodel import select

    from bot.applications.lookup import follow
    from bot.applications.service import get_application
    from bot.surveys.models import SCHEDULED
    from bot.surveys.wiring import install

    install(rt)  # what build_runtime does in every process, the API's included
    created = (
        await client.post(
            "/api/v1/applications", json={"service_id": "ktp-el", "applicant_name": "Siti"},
            headers=AUTH,
        )
    ).json()
    number = created["tracking_number"]
    with rt.db.session() as s:
        follow(s, application=get_application(s, number), user_id=77)
    for status in ("in_process", "completed"):
        response = await client.post(
            f"/api/v1/applications/{number}/status", json={"status": status}, headers=AUTH
        )
        assert response.status_code == 200, response.text
    with rt.db.session() as s:
        [invitation] = s.exec(select(SurveyInvitation)).all()
        closed_at = get_application(s, number).closed_at
    assert (invitation.user_id, invitation.service_id, invitation.status) == (
        77, "ktp-el", SCHEDULED
    )
    assert invitation.due_at >= closed_at + timedelta(hours=2)
