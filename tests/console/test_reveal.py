"""The console's "show" button: a complaint's NIKs and phone numbers, masked on its page, are
shown whole to the officer who took the ticket or a supervisor or admin over its unit, for that
one response only (never cached), with the audit line the chat's button writes. Everyone else,
forged ids and forms without the session's token get a refusal with nothing of the text."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bot.complaints.filing import get_complaint
from bot.complaints.queries import set_staff_unit
from bot.core.models import AuditEntry
from bot.people.staff import add_staff
from tests.support.console import (
    ADMIN,
    MASKED_NIK,
    NIK,
    OFFICER,
    OTHER_OFFICER,
    OTHER_UNIT,
    PHONE,
    STORY_WITH_NUMBERS,
    SUPERVISOR,
    UNIT,
    complaint,
    csrf_of,
    signed_in,
    start_console,
)

OFFICER_B = 201  # the same unit as OFFICER, but not the one who took the ticket
SUPERVISOR_ELSEWHERE = 301  # a supervisor of another unit
NOT_YOURS = "Hanya petugas yang menangani tiket ini"


@pytest.fixture
async def console(make_bot, database_url):  # noqa: ANN001, ANN201
    harness = await start_console(make_bot, database_url)
    with harness.rt.db.session() as s:
        for staff_id, role, unit in ((OFFICER_B, "officer", UNIT),
                                     (SUPERVISOR_ELSEWHERE, "supervisor", OTHER_UNIT)):
            add_staff(s, telegram_id=staff_id, role=role, actor_id=ADMIN)
            s.flush()
            set_staff_unit(s, telegram_id=staff_id, unit=unit, actor_id=ADMIN)
    return harness


def reveals(console) -> list[tuple[int, str, dict]]:  # noqa: ANN001
    with console.rt.db.session() as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.action == "complaint.revealed")
                      .order_by(AuditEntry.id)).all()
        return [(r.actor_id, r.subject, r.detail) for r in rows]


def assert_nothing_whole(answer: httpx.Response) -> None:
    assert NIK not in answer.text and PHONE not in answer.text
    assert "3174 0123" not in answer.text and "9876-5432" not in answer.text


async def test_the_tickets_officer_sees_it_whole_once_and_it_is_audited(console):
    ticket = complaint(console, description=STORY_WITH_NUMBERS)
    url = f"/console/complaints/{ticket.id}"
    officer = await signed_in(console, OFFICER)
    try:
        page = await officer.get(url)
        assert page.status_code == 200 and MASKED_NIK in page.text
        assert_nothing_whole(page)
        # Handling the unit's tickets is not enough: only once taken (the chat's rule).
        assert 'id="reveal"' not in page.text
        token = csrf_of(page.text)
        early = await officer.post(url + "/reveal", data={"csrf": token})
        assert early.status_code == 403 and NOT_YOURS in early.text
        assert_nothing_whole(early)
        assert reveals(console) == []

        assert (await officer.post(url + "/take", data={"csrf": token})).status_code == 303
        page = await officer.get(url)
        assert 'id="reveal"' in page.text and 'action="/console/complaints/' in page.text
        assert_nothing_whole(page)
        whole = await officer.post(url + "/reveal", data={"csrf": token})
        assert whole.status_code == 200
        assert f"NIK saya {NIK}, hubungi {PHONE}." in whole.text and MASKED_NIK not in whole.text
        assert whole.headers["cache-control"] == "no-store"
        # Still escaped when whole; no button to press again; the reply form is still there.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in whole.text
        assert "<script>alert(1)" not in whole.text
        assert 'id="reveal"' not in whole.text and 'id="revealed"' in whole.text
        assert 'id="reply"' in whole.text
        assert reveals(console) == [(OFFICER, ticket.ticket, {"channel": "console"})]

        # For that response only: the page opened again is masked.
        again = await officer.get(url)
        assert again.status_code == 200 and MASKED_NIK in again.text
        assert_nothing_whole(again)
        assert len(reveals(console)) == 1

        # No token, or another session's token: refused before anything is read.
        assert (await officer.post(url + "/reveal", data={})).status_code == 403
        supervisor = await signed_in(console, SUPERVISOR)
        try:
            foreign = csrf_of((await supervisor.get("/console/")).text)
            forged = await officer.post(url + "/reveal", data={"csrf": foreign})
            assert forged.status_code == 403
            assert_nothing_whole(forged)
        finally:
            await supervisor.aclose()
        assert len(reveals(console)) == 1
    finally:
        await officer.aclose()


async def test_only_the_same_people_as_in_the_chat_and_nothing_leaks(console):
    ticket = complaint(console, description=STORY_WITH_NUMBERS)
    with console.rt.db.session() as s:
        taken = get_complaint(s, ticket.id)
        taken.assignee_id = OFFICER
        s.add(taken)
    url = f"/console/complaints/{ticket.id}/reveal"
    clients = {who: await signed_in(console, who) for who in
               (OFFICER_B, OTHER_OFFICER, SUPERVISOR_ELSEWHERE, SUPERVISOR, ADMIN)}
    nobody = httpx.AsyncClient(base_url=console.server.base_url)
    try:
        tokens = {who: csrf_of((await c.get("/console/")).text) for who, c in clients.items()}

        # Another officer of the unit reads the ticket masked, has no button, and is refused.
        mine_not = await clients[OFFICER_B].get(f"/console/complaints/{ticket.id}")
        assert mine_not.status_code == 200 and 'id="reveal"' not in mine_not.text
        refused = await clients[OFFICER_B].post(url, data={"csrf": tokens[OFFICER_B]})
        assert refused.status_code == 403 and NOT_YOURS in refused.text
        assert_nothing_whole(refused)
        # A supervisor over another unit may not open the unit's tickets at all (a unit's
        # supervisor sees that unit's, bot/people/scope.py), so neither their numbers.
        elsewhere = await clients[SUPERVISOR_ELSEWHERE].post(
            url, data={"csrf": tokens[SUPERVISOR_ELSEWHERE]})
        assert elsewhere.status_code == 403
        assert_nothing_whole(elsewhere)

        # An officer of another unit: the same page as for a ticket that does not exist.
        other = await clients[OTHER_OFFICER].post(url, data={"csrf": tokens[OTHER_OFFICER]})
        assert other.status_code == 403
        assert ticket.ticket not in other.text and "Petugas loket" not in other.text
        assert_nothing_whole(other)
        # Forged ids, past the INTEGER column and past BIGINT too: a refusal, never a 500.
        for forged in ("999999", "2147483648", "99999999999999999999", "0", "-1", "x"):
            answer = await clients[OTHER_OFFICER].post(
                f"/console/complaints/{forged}/reveal", data={"csrf": tokens[OTHER_OFFICER]})
            assert answer.status_code == 403 and answer.text == other.text, forged
            for client, token in ((clients[SUPERVISOR], tokens[SUPERVISOR]),
                                  (clients[ADMIN], tokens[ADMIN])):
                answer = await client.post(f"/console/complaints/{forged}/reveal",
                                           data={"csrf": token})
                assert answer.status_code == 403, forged
                assert (await client.get(f"/console/complaints/{forged}")).status_code == 403
        # Nobody signed in.
        anonymous = await nobody.post(url, data={"csrf": tokens[ADMIN]})
        assert anonymous.status_code == 401
        assert_nothing_whole(anonymous)
        assert ticket.ticket not in anonymous.text
        assert reveals(console) == []

        # The unit's supervisor and an admin (in no unit: over every unit) may.
        for who in (SUPERVISOR, ADMIN):
            whole = await clients[who].post(url, data={"csrf": tokens[who]})
            assert whole.status_code == 200, who
            assert NIK in whole.text and PHONE in whole.text
            assert whole.headers["cache-control"] == "no-store"
        assert reveals(console) == [(SUPERVISOR, ticket.ticket, {"channel": "console"}),
                                    (ADMIN, ticket.ticket, {"channel": "console"})]
    finally:
        for client in (*clients.values(), nobody):
            await client.aclose()
