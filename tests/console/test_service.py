"""The staff console over HTTP, against the real bot and database: sign-in links, sessions,
CSRF, who may open what, and changes made through the chat's own rules."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.applications.service import get_application, history
from bot.complaints.filing import get_complaint
from bot.complaints.vocabulary import RECEIVED, RESOLVED
from bot.console import auth
from bot.console.models import ConsoleLoginLink, ConsoleSession
from bot.console.web import protected_routes
from bot.core.models import AuditEntry, utcnow
from bot.feedback import log as fl
from bot.feedback.models import UnansweredQuestion
from bot.people.staff import remove_staff
from bot.queue.models import QueueSlot
from tests.support.console import (
    ADMIN,
    CITIZEN,
    NIK,
    OFFICER,
    OTHER_OFFICER,
    STORY,
    STORY_WITH_NUMBERS,
    SUPERVISOR,
    application_with_follower,
    citizen_in_chat,
    complaint,
    csrf_of,
    link_from_chat,
    signed_in,
    start_console,
)


@pytest.fixture
async def console(make_bot, database_url):  # noqa: ANN001, ANN201
    return await start_console(make_bot, database_url)


async def test_a_link_signs_in_once_and_expires(console):
    citizen = console.user(CITIZEN, "Sari")
    await citizen.send("/konsol")
    refusal = await citizen.reply(timeout=10)
    assert "/console/login/" not in refusal.text  # a citizen gets the unknown-command answer

    link = await link_from_chat(console, OFFICER)
    async with httpx.AsyncClient(base_url=console.server.base_url) as client:
        # Opening the link (a chat app's preview) does not use it up.
        assert (await client.get(link)).status_code == 200
        first = await client.post(link)
        assert first.status_code == 303
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
        assert "Secure" not in cookie  # PUBLIC_URL is http here
        assert (await client.get("/console/")).status_code == 200
    async with httpx.AsyncClient(base_url=console.server.base_url) as other:
        again = await other.post(link)
        assert again.status_code == 400
        assert "auth" not in other.cookies and auth.COOKIE not in other.cookies

    expiring = await link_from_chat(console, OFFICER)
    token = expiring.rsplit("/", 1)[1]
    with console.rt.db.session() as s:
        row = s.get(ConsoleLoginLink, auth.token_hash(token))
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        # Only hashes are stored: the token itself is nowhere in the tables.
        assert all(token not in r.token_hash for r in s.exec(select(ConsoleLoginLink)).all())
    async with httpx.AsyncClient(base_url=console.server.base_url) as late:
        assert (await late.post(expiring)).status_code == 400
    async with httpx.AsyncClient(base_url=console.server.base_url) as guess:
        assert (await guess.post("/console/login/not-a-real-token")).status_code == 400


async def test_sessions_end_everywhere_and_with_the_role(console):
    desk = await signed_in(console, OFFICER)
    phone = await signed_in(console, OFFICER)
    kiosk = await signed_in(console, OFFICER)
    try:
        # Signing out of one browser ends its session (its old cookie opens nothing) and
        # leaves the others signed in.
        kept = kiosk.cookies.get(auth.COOKIE)
        alone = await kiosk.post("/console/logout", data={
            "csrf": csrf_of((await kiosk.get("/console/")).text)})
        assert alone.status_code == 303
        async with httpx.AsyncClient(base_url=console.server.base_url,
                                     cookies={auth.COOKIE: kept}) as replay:
            assert (await replay.get("/console/")).status_code == 401
        assert (await phone.get("/console/")).status_code == 200
        home = await desk.get("/console/")
        assert home.status_code == 200
        out = await desk.post("/console/logout", data={"csrf": csrf_of(home.text),
                                                      "everywhere": "1"})
        assert out.status_code == 303
        assert (await desk.get("/console/applications")).status_code == 401
        assert (await phone.get("/console/applications")).status_code == 401
        with console.rt.db.session() as s:
            assert s.exec(select(AuditEntry).where(
                AuditEntry.action == "console.logout_all",
                AuditEntry.actor_id == OFFICER)).first() is not None
    finally:
        for client in (desk, phone, kiosk):
            await client.aclose()

    aged = await signed_in(console, OFFICER)
    with console.rt.db.session() as s:
        for row in s.exec(select(ConsoleSession).where(ConsoleSession.staff_id == OFFICER)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            s.add(row)
    assert (await aged.get("/console/")).status_code == 401
    await aged.aclose()

    removed = await signed_in(console, OTHER_OFFICER)
    with console.rt.db.session() as s:
        remove_staff(s, telegram_id=OTHER_OFFICER, actor_id=ADMIN)
    assert (await removed.get("/console/")).status_code == 401
    await removed.aclose()


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


# The lowest role each console route needs (the first rule that fits: a method or any, and
# the start of the path); everything else needs an officer.
NEEDS = [
    ("POST", "/console/queue/close", "supervisor"),  # officers see the queue, never close
    (None, "/console/unanswered/", "supervisor"),  # officers see the list, not the forms
    (None, "/console/ikm", "supervisor"),
    (None, "/console/knowledge", "admin"),
]
RANK = {"officer": 1, "supervisor": 2, "admin": 3}
# Posted with the token as every role: the ticket whole is for its officer once taken, or a
# supervisor or admin over its unit (bot/complaints/masking.py, may_reveal), so the walk's
# officer, who has not taken it, is refused like a lower role.
REVEAL = ("POST", "/console/complaints/{complaint_id}/reveal")


def needs(method: str, path: str) -> str:
    return next((role for how, start, role in NEEDS
                 if how in (None, method) and path.startswith(start)), "officer")


async def test_every_route_as_each_role_and_as_nobody(console):
    application = application_with_follower(console, follower=None)
    ticket = complaint(console, description=STORY_WITH_NUMBERS)
    with console.rt.db.session() as s:
        question = fl.record_question(
            s, user_id=CITIZEN, chat_id=CITIZEN, locale="id", text="ada mushola?",
            service_id=None, topic=None, understood=False,
        ).question_id
    ids = {"number": application.tracking_number, "complaint_id": str(ticket.id),
           "service_id": "ktp-el", "question_id": str(question), "entry_id": "parkir",
           "situation_id": "kelahiran"}
    routes = protected_routes(console.rt)
    assert len(routes) >= 25
    assert ("POST", "/console/queue/close") in routes and (
        "GET", "/console/unanswered/{question_id}") in routes
    assert REVEAL in routes
    clients = {
        "officer": await signed_in(console, OFFICER),
        "supervisor": await signed_in(console, SUPERVISOR),
        "admin": await signed_in(console, ADMIN),
    }
    nobody = httpx.AsyncClient(base_url=console.server.base_url)
    try:
        tokens = {}
        for role, client in clients.items():
            tokens[role] = csrf_of((await client.get("/console/")).text)
        for method, path in routes:
            url = _concrete(path, ids)
            answer = await nobody.request(method, url, data={"csrf": "x"})
            assert answer.status_code == 401, (method, url)
            assert "Sari" not in answer.text and ticket.ticket not in answer.text
            assert NIK not in answer.text
            for role, client in clients.items():
                allowed = RANK[role] >= RANK[needs(method, path)]
                if method == "GET":
                    # A supervisor of a unit sees that unit's services (the office-wide list of
                    # responses is for those over every unit).
                    query = "?service=ktp-el" if path.startswith("/console/ikm") else ""
                    answer = await client.get(url + query)
                    # No survey answers here: fewer than IKM_MIN_RESPONDENTS, so the allowed
                    # answer to the list of responses is "too few to show" (409).
                    ok = 409 if path.endswith("responses.csv") else 200
                    assert (answer.status_code == ok) == allowed, (role, url, answer.status_code)
                    if not allowed:
                        assert answer.status_code == 403
                else:
                    # Without the token: refused before anything happens, whatever the role.
                    answer = await client.post(url, data={})
                    assert answer.status_code == 403, (role, url)
                    if (method, path) == REVEAL:
                        answer = await client.post(url, data={"csrf": tokens[role]})
                        whole = role != "officer"
                        assert (answer.status_code == 200) == whole, (role, answer.status_code)
                        assert (NIK in answer.text) == whole, role
                        if not whole:
                            assert answer.status_code == 403
                    elif not allowed:
                        answer = await client.post(url, data={"csrf": tokens[role]})
                        assert answer.status_code == 403, (role, url)
        # The refused posts changed nothing.
        with console.rt.db.session() as s:
            assert get_application(s, application.tracking_number).status == "received"
            assert get_complaint(s, ticket.id).status == RECEIVED
            assert s.get(UnansweredQuestion, question).handled_at is None
            assert not s.exec(select(QueueSlot).where(QueueSlot.closed)).all()
            # Only the allowed reveals are in the audit trail.
            assert sorted(s.exec(select(AuditEntry.actor_id).where(
                AuditEntry.action == "complaint.revealed")).all()) == [ADMIN, SUPERVISOR]
    finally:
        for client in (*clients.values(), nobody):
            await client.aclose()


async def test_a_form_from_another_session_is_refused(console):
    application = application_with_follower(console)
    officer = await signed_in(console, OFFICER)
    supervisor = await signed_in(console, SUPERVISOR)
    try:
        foreign = csrf_of((await supervisor.get("/console/")).text)
        answer = await officer.post(
            f"/console/applications/{application.tracking_number}/status",
            data={"csrf": foreign, "status": "in_verification"},
        )
        assert answer.status_code == 403
        with console.rt.db.session() as s:
            assert get_application(s, application.tracking_number).status == "received"
    finally:
        await officer.aclose()
        await supervisor.aclose()


async def test_status_change_reaches_the_follower_and_is_audited(console):
    citizen = await citizen_in_chat(console)
    application = application_with_follower(console)
    officer = await signed_in(console, OFFICER)
    try:
        url = f"/console/applications/{application.tracking_number}"
        page = await officer.get(url)
        assert page.status_code == 200
        refused = await officer.post(url + "/status", data={
            "csrf": csrf_of(page.text), "status": "rejected"})
        assert refused.status_code == 200 and "note is required" in refused.text.lower() or \
            "catatan" in refused.text.lower()
        done = await officer.post(url + "/status", data={
            "csrf": csrf_of(page.text), "status": "in_verification"})
        assert done.status_code == 303
        notice = await citizen.reply(timeout=10)
        assert application.display_number in notice.text
        with console.rt.db.session() as s:
            event = history(s, get_application(s, application.tracking_number))[-1]
            assert (event.status, event.actor_id, event.source) == (
                "in_verification", OFFICER, "console")
    finally:
        await officer.aclose()


async def test_an_officer_of_another_unit_gets_403_and_nothing_else(console):
    ticket = complaint(console, description=STORY)
    passport = application_with_follower(console, service_id="paspor", follower=None)
    ktp = application_with_follower(console, follower=None)
    other = await signed_in(console, OTHER_OFFICER)
    officer = await signed_in(console, OFFICER)
    try:
        refused = await other.get(f"/console/complaints/{ticket.id}")
        assert refused.status_code == 403
        assert ticket.ticket not in refused.text and "Petugas loket" not in refused.text
        unknown = await other.get("/console/complaints/999999")
        assert unknown.status_code == 403 and unknown.text == refused.text
        token = csrf_of((await other.get("/console/")).text)
        taken = await other.post(f"/console/complaints/{ticket.id}/take", data={"csrf": token})
        assert taken.status_code == 403
        queue = await other.get("/console/complaints")
        assert ticket.ticket not in queue.text
        assert (await other.get(f"/console/applications/{ktp.tracking_number}")).status_code == 403
        assert (await other.get(f"/console/applications/{passport.tracking_number}")
                ).status_code == 200
        listing = await other.get("/console/applications")
        assert passport.display_number in listing.text and ktp.display_number not in listing.text
        supervisor = await signed_in(console, SUPERVISOR)
        for path in ("/console/ikm", "/console/ikm/summary.csv", "/console/ikm/chart.png"):
            assert (await supervisor.get(path + "?service=paspor")).status_code == 403
            assert (await supervisor.get(path + "?service=ktp-el")).status_code == 200
        assert (await supervisor.get("/console/ikm/responses.csv")).status_code == 403
        assert (await supervisor.get("/console/ikm?unit=imigrasi-kepolisian")).status_code == 403
        assert (await supervisor.get("/console/ikm?unit=kependudukan")).status_code == 200
        boss = await signed_in(console, ADMIN)
        per_unit = await boss.get("/console/ikm?unit=imigrasi-kepolisian")
        assert per_unit.status_code == 200 and "Paspor" in per_unit.text
        assert "KTP" not in per_unit.text
        assert (await boss.get("/console/ikm?unit=nonsense")).status_code == 403
        await boss.aclose()
        await supervisor.aclose()

        # The officer of the unit sees it, anonymous and escaped.
        mine = await officer.get(f"/console/complaints/{ticket.id}")
        assert mine.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mine.text
        assert "<script>alert(1)" not in mine.text
        assert "Budi" not in mine.text and str(CITIZEN) not in mine.text
        assert "script-src 'none'" in mine.headers["content-security-policy"]
        assert mine.headers["cache-control"] == "no-store"
    finally:
        await other.aclose()
        await officer.aclose()


async def test_reply_and_resolve_reach_the_complainant(console):
    citizen = await citizen_in_chat(console, name="Budi")
    ticket = complaint(console, privacy="named")
    officer = await signed_in(console, OFFICER)
    try:
        url = f"/console/complaints/{ticket.id}"
        page = await officer.get(url)
        assert "Budi Santoso" in page.text  # a named complaint shows the name, as in the chat
        token = csrf_of(page.text)
        assert (await officer.post(url + "/take", data={"csrf": token})).status_code == 303
        assert (await officer.post(url + "/reply", data={
            "csrf": token, "body": "Kami sedang memeriksa loket 3."})).status_code == 303
        taken, reply = await citizen.replies(2, timeout=10)
        assert ticket.ticket in taken.text
        assert "Kami sedang memeriksa loket 3." in reply.text
        empty = await officer.post(url + "/resolve", data={"csrf": token, "body": " "})
        assert empty.status_code == 409
        assert (await officer.post(url + "/resolve", data={
            "csrf": token, "body": "Petugas sudah ditegur."})).status_code == 303
        answer = await citizen.reply(timeout=10)
        assert ticket.ticket in answer.text
        with console.rt.db.session() as s:
            assert get_complaint(s, ticket.id).status == RESOLVED
            actions = [e.action for e in s.exec(select(AuditEntry).where(
                AuditEntry.actor_id == OFFICER, AuditEntry.subject == ticket.ticket))]
            assert "complaint.reply" in actions
    finally:
        await officer.aclose()


async def test_csv_preview_changes_nothing_until_applied(console):
    citizen = await citizen_in_chat(console)
    first = application_with_follower(console)
    second = application_with_follower(console, follower=None)
    passport = application_with_follower(console, service_id="paspor", follower=None)
    officer = await signed_in(console, OFFICER)
    try:
        token = csrf_of((await officer.get("/console/applications/upload")).text)
        data = (
            "tracking_number,status,note\n"
            f"{first.display_number},in_process,\n"
            f"{second.tracking_number},rejected,\n"
            f"{passport.tracking_number},in_process,\n"
        ).encode()
        preview = await officer.post(
            "/console/applications/upload", data={"csrf": token},
            files={"file": ("status.csv", data, "text/csv")},
        )
        assert preview.status_code == 200
        assert "1 of 3" in preview.text or "1 dari 3" in preview.text
        with console.rt.db.session() as s:
            assert get_application(s, first.tracking_number).status == "received"
        await citizen.expect_silence(0.5)
        hidden = re.search(r'name="data" value="([^"]+)"', preview.text).group(1)
        done = await officer.post("/console/applications/upload/apply",
                                  data={"csrf": token, "data": hidden})
        assert done.status_code == 200
        with console.rt.db.session() as s:
            assert get_application(s, first.tracking_number).status == "in_process"
            assert get_application(s, second.tracking_number).status == "received"
            assert get_application(s, passport.tracking_number).status == "received"
        assert first.display_number in (await citizen.reply(timeout=10)).text
    finally:
        await officer.aclose()


async def test_ended_links_and_sessions_are_deleted_after_a_day(console):
    desk = await signed_in(console, OFFICER)
    await link_from_chat(console, OFFICER)  # never used
    later = utcnow() + auth.SESSION_TTL + auth.KEEP_ENDED + timedelta(minutes=1)
    with console.rt.db.session() as s:
        assert auth.purge_ended(s) == 0  # nothing has ended a day ago yet
        assert auth.purge_ended(s, now=later) == 3  # two links and the session
        assert s.exec(select(ConsoleSession)).all() == []
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "console.login")).first()
    assert (await desk.get("/console/")).status_code == 401
    await desk.aclose()
