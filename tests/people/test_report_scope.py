"""Every report command of the chat and every route of the back-office API, walked as each role:
a supervisor of unit A sees unit A's complaints, index, figures and lists, never unit B's; the
whole office is for admins and supervisors in no unit.

The commands come from the running Application's handlers and the routes from the API's route
table: a command or route that is in neither table below fails the walk, so a new one cannot
escape it.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select
from telegram.ext import CommandHandler

from bot.api_tokens.service import create_token
from bot.applications.api import create_api_app
from bot.applications.service import register_application
from bot.complaints.filing import file_complaint
from bot.complaints.queries import set_staff_unit
from bot.core.models import AuditEntry, utcnow
from bot.feedback.log import record_question
from bot.people.staff import add_staff
from bot.queue.service import book
from tests.support.console import survey_answers
from tests.support.e2e import BotHarness, SentMessage
from tests.support.queue import MONDAY, at

UNIT_A, UNIT_B = "kependudukan", "imigrasi-kepolisian"
SERVICE_A, SERVICE_B = "ktp-el", "paspor"
CITIZEN, OFFICER_A, SUPERVISOR_A, SUPERVISOR, ADMIN = 7100, 7200, 7300, 7400, 7500
ROLES = {
    "citizen": CITIZEN,
    "officer of unit A": OFFICER_A,
    "supervisor of unit A": SUPERVISOR_A,
    "supervisor in no unit": SUPERVISOR,
    "admin": ADMIN,
}
UNKNOWN = "Perintah itu tidak saya kenal"

# What each role gets from a report command: "refused" (the unknown-command answer), "public"
# (the published index every citizen gets), "A" (unit A's data, nothing of unit B), "all"
# (both units), "shown" (an answer, holding no unit's data).
R, P = "refused", "public"


def seen(citizen: str, officer_a: str, supervisor_a: str, supervisor: str, admin: str) -> dict:
    return dict(zip(ROLES, (citizen, officer_a, supervisor_a, supervisor, admin), strict=True))


REPORTS = {
    "complaints": (["/complaints all"], seen(R, "A", "A", "all", "all")),
    "laporan": (["/laporan"], seen(R, R, "A", "all", "all")),  # its period buttons are pressed
    # /ikm offers periods, then units: two levels of buttons.
    "ikm": (["/ikm", "/ikm unit csv"], seen(P, P, "A", "all", "all")),
    "statistik": ([f"/statistik {MONDAY}"], seen(R, R, "A", "all", "all")),
    "overdue": (["/overdue"], seen(R, "A", "A", "all", "all")),
    "belumterjawab": (["/belumterjawab"], seen(R, "A", "A", "all", "all")),
    "audit": (["/audit", "/audit csv"], seen(R, R, R, R, "all")),
    "outbox": (["/outbox"], seen(R, R, R, R, "shown")),
}

# Commands that report nothing across citizens or units, and why.
NOT_REPORTS = {
    "start": "the main menu (and staff invitations)",
    "help": "the citizen's command list",
    "bahasa": "the user's own language",
    "batal": "leaves the user's own flow",
    "layanan": "the public knowledge base",
    "pengaduan": "the citizen files their own complaint",
    "tiket": "the citizen's own tickets",
    "balas": "an officer's reply on one ticket, checked with can_handle",
    "duplikat": "marks one ticket, checked with can_handle",
    "unit": "an admin puts staff in a unit",
    "cekstatus": "a citizen's lookup, by number and verification code",
    "register": "the counter registers an application in hand",
    "update": "the counter moves an application in hand, by its number",
    "find": "the counter looks up an application in hand, by its number or name",
    "officer": "an admin manages staff",
    "join": "asking to join the staff",
    "survei": "the citizen's own survey",
    "antrean": "the citizen books a visit",
    "antreanku": "the citizen's own bookings",
    "loket": "an officer's own counter",
    "panggil": "calls the next visitor at the officer's counter",
    "lewati": "skips the visitor at the officer's counter",
    "selesai": "ends the visit at the officer's counter",
    "checkin": "checks in a visitor by code",
    "walkin": "a ticket for a visitor without a booking",
    "tutup": "a supervisor closes bookings (an action, not a report)",
    "gangguan": "a supervisor posts a disruption notice (an action, not a report)",
    "muatulang": "an admin reloads the knowledge base",
    "konsol": "a sign-in link; the console's pages scope themselves (bot/console)",
    "dataku": "the user's own data",
    "hapusdata": "erases the user's own data",
    "token": "an admin manages API tokens (tests/api_tokens)",
}


@dataclass
class Seeded:
    markers_a: set[str]
    markers_b: set[str]
    tracking_a: str
    tracking_b: str


def _seed(bot: BotHarness) -> Seeded:
    """The same things in both units: a complaint (each unit its own category), a satisfaction
    survey, an overdue application, an unanswered question and a visit."""
    rt = bot.rt
    long_ago = utcnow() - timedelta(days=90)
    with rt.db.session() as s:
        for staff_id, role, unit in ((OFFICER_A, "officer", UNIT_A),
                                     (SUPERVISOR_A, "supervisor", UNIT_A),
                                     (SUPERVISOR, "supervisor", None)):
            add_staff(s, telegram_id=staff_id, role=role, actor_id=ADMIN)
            s.flush()
            set_staff_unit(s, telegram_id=staff_id, unit=unit, actor_id=ADMIN)
        tickets, numbers = [], []
        for unit, service_id, category, question in (
            (UNIT_A, SERVICE_A, "pelayanan", "kenapa blangko ktp selalu habis"),
            (UNIT_B, SERVICE_B, "petugas", "wawancara paspor bisa diwakilkan"),
        ):
            complaint = file_complaint(
                s, rt, complainant_id=CITIZEN, complainant_name="Budi", category=category,
                description=f"Keluhan tentang layanan {service_id} yang lambat sekali",
                privacy="named", service_id=service_id,
            )
            complaint.unit = unit
            s.add(complaint)
            tickets.append(complaint.ticket)
            numbers.append(register_application(
                s, rt, service_id=service_id, applicant_name="Warga", actor_id=None,
                now=long_ago,
            ).display_number)
            record_question(s, user_id=CITIZEN, chat_id=CITIZEN, locale="id", text=question,
                            service_id=service_id, topic=None, understood=False)
            book(s, rt, user_id=CITIZEN, language="id", service_id=service_id, day=MONDAY,
                 start="08:00", priority_reason=None, now=at(rt, MONDAY, 6, 0))
    for service_id in (SERVICE_A, SERVICE_B):
        survey_answers(bot, CITIZEN, service_id, [4] * 9)
    kb = rt.knowledge
    category_titles = {c.id: c.name.get("id") for c in kb.office.complaint_categories}
    return Seeded(
        markers_a={tickets[0], numbers[0], kb.services[SERVICE_A].name("id"),
                   category_titles["pelayanan"], "blangko ktp", UNIT_A},
        markers_b={tickets[1], numbers[1], kb.services[SERVICE_B].name("id"), SERVICE_B,
                   category_titles["petugas"], "wawancara paspor", UNIT_B},
        tracking_a=numbers[0], tracking_b=numbers[1],
    )


def _command_names(bot: BotHarness) -> set[frozenset[str]]:
    return {
        frozenset(handler.commands)
        for handlers in bot.app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
    }


def _read(bot: BotHarness, message: SentMessage) -> str:
    """What a reader finds in a message: its text, and the contents of a spreadsheet file."""
    parts = [message.text or ""]
    if message.document:
        data = bot.emulator.files[message.document["file_id"]].data
        name = message.document.get("file_name", "")
        if name.endswith(".gz"):
            data, name = gzip.decompress(data), name[:-3]
        if name.endswith(".xlsx"):
            book_ = load_workbook(io.BytesIO(data), read_only=True)
            parts += [str(cell) for sheet in book_ for row in sheet.iter_rows(values_only=True)
                      for cell in row if cell is not None]
        else:
            parts.append(data.decode("utf-8"))
    return "\n".join(parts)


async def _new_messages(bot: BotHarness, user) -> list[SentMessage]:  # noqa: ANN001
    """Every message the bot sent this user since the last call, once all was handled."""
    await bot.settle(timeout=20)
    events = user._new_events()
    if events:
        user._cursor = events[-1].seq
    return [user._sent(event) for event in events]


async def _press_all(
    bot: BotHarness, user, messages: list[SentMessage], depth: int  # noqa: ANN001
) -> list[SentMessage]:
    """What each button of ``messages`` gives when pressed, ``depth`` levels deep (a menu of
    periods, then units: one period is enough to reach every unit). Each is pressed on the
    message as it was sent: a press that edits the message in place (a menu's next level) must
    not hide its siblings from the walk."""
    pressed: list[SentMessage] = []
    for message in messages:
        buttons = [d for _label, d in message.buttons if not d.startswith(("http://", "https://"))]
        for data in buttons[:1] if depth > 1 else buttons:
            await user.forge_click(data, message=message)
            answers = await _new_messages(bot, user)
            pressed += answers
            if depth > 1:
                pressed += await _press_all(bot, user, answers, depth - 1)
    return pressed


async def _walk(
    bot: BotHarness, user, command: str, *, press: bool, depth: int = 1  # noqa: ANN001
) -> list[SentMessage]:
    """The command's answers, then (``press``) what each of their buttons gives when pressed,
    ``depth`` levels deep: periods, units, exports, tickets, filters."""
    await user.send(command)
    answers = await _new_messages(bot, user)
    if not press:
        return answers
    return answers + await _press_all(bot, user, answers, depth)


@pytest.fixture
async def office(make_bot, database_url) -> tuple[BotHarness, Seeded]:  # noqa: ANN001
    bot = await make_bot(database_url, admin_ids=[ADMIN])
    return bot, _seed(bot)


async def test_every_command_is_a_known_report_or_not_a_report(office):
    bot, _seeded = office
    known = set(REPORTS) | set(NOT_REPORTS)
    unclassified = [sorted(names) for names in _command_names(bot) if not names & known]
    assert not unclassified, f"classify these commands in {__name__}: {unclassified}"


@pytest.mark.parametrize("report", sorted(REPORTS))
async def test_each_role_sees_its_own_units_reports(office, report):
    bot, seeded = office
    commands, expected = REPORTS[report]
    for role, user_id in ROLES.items():
        user = bot.user(user_id, role.title())
        for command in commands:
            # The buttons under a refusal (the main menu) or the public index are no report.
            press = expected[role] not in (R, P)
            messages = await _walk(bot, user, command, press=press,
                                   depth=2 if report == "ikm" else 1)
            said = "\n".join(_read(bot, m) for m in messages)
            what = f"{command} as the {role}"
            assert messages, f"{what}: no answer"
            sees_a = sorted(m for m in seeded.markers_a if m in said)
            sees_b = sorted(m for m in seeded.markers_b if m in said)
            if expected[role] == "refused":
                assert len(messages) == 1 and UNKNOWN in said, f"{what}: {said[:300]}"
            elif expected[role] == "public":
                # The published index (its service buttons) or, with none published yet, when
                # it will be: never a staff report.
                first = messages[0]
                assert first.text.startswith("Indeks Kepuasan Masyarakat (IKM)"), what
                assert "Semua layanan" in first.labels or "mengumumkan indeks" in first.text, (
                    f"{what}: {said[:300]}")
            elif expected[role] == "A":
                assert sees_a and not sees_b, f"{what}: saw A {sees_a}, B {sees_b}"
            elif expected[role] == "all":
                assert sees_a and sees_b, f"{what}: saw A {sees_a}, B {sees_b}"
            else:
                assert UNKNOWN not in said and not sees_a and not sees_b, f"{what}: {said[:300]}"


# --- the back-office API ----------------------------------------------------------------------
# No person signs in to the API: a client holds a token an admin made (tests/api_tokens). A
# token made for unit A is unit A's view, as its supervisor's; one made for no unit (or an old
# API_TOKENS token) is the whole office's, as an admin's. Citizens, officers and supervisors
# hold none: they are refused like a request without one.
ENV_TOKEN = "env-token-of-the-scope-walk-0123456789"
API_ROUTES = {
    ("/api/v1/applications", "POST"): "change",
    ("/api/v1/applications/{tracking_number}", "GET"): "read",
    ("/api/v1/applications/{tracking_number}/status", "POST"): "change",
    ("/api/v1/ikm", "GET"): "report",
    ("/api/v1/openapi.json", "GET"): "public",
}


def _route_table(app) -> set[tuple[str, str]]:  # noqa: ANN001
    return {(route.path, method) for route in app.routes for method in route.methods
            if method != "HEAD"}


def _request(bot: BotHarness, path: str, unit: str, seeded: Seeded) -> tuple[str, dict | None]:
    """The request that reaches ``unit``'s data through a route (a status change gets an
    application of its own, so that every change is one the rules allow)."""
    service = SERVICE_A if unit == "A" else SERVICE_B
    if path == "/api/v1/applications":
        return path, {"service_id": service, "applicant_name": "Sari Wulandari"}
    if path.endswith("/status"):
        with bot.rt.db.session() as s:
            number = register_application(s, bot.rt, service_id=service, applicant_name="Warga",
                                          actor_id=None).display_number
        return path.format(tracking_number=number), {"status": "in_process"}
    if "{tracking_number}" in path:
        number = seeded.tracking_a if unit == "A" else seeded.tracking_b
        return path.format(tracking_number=number), None
    return path, None


def _last_audit(bot: BotHarness) -> int:
    with bot.rt.db.session() as s:
        return max(s.exec(select(AuditEntry.id)).all())


async def test_every_api_route_as_each_token(office):
    bot, seeded = office
    with bot.rt.db.session() as s:
        _, unit_a = create_token(s, name="unit-a", unit=UNIT_A, actor_id=ADMIN)
        _, whole = create_token(s, name="office", actor_id=ADMIN)
    bot.rt.settings.api_tokens = [ENV_TOKEN]
    app = create_api_app(bot.rt)
    assert _route_table(app) == set(API_ROUTES), "classify the new route in API_ROUTES"
    holders = {  # who calls: (secret, the token's audited name, the units it reaches)
        "no token (citizen, officer, supervisor)": (None, None, ""),
        "unit A's token": (unit_a, "unit-a", "A"),
        "the office's token": (whole, "office", "AB"),
        "API_TOKENS (deprecated)": (ENV_TOKEN, "env-token", "AB"),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api") as api:
        for (path, method), kind in sorted(API_ROUTES.items()):
            for holder, (secret, name, reach) in holders.items():
                headers = {"Authorization": f"Bearer {secret}"} if secret else {}
                for unit in ("A", "B"):
                    url, body = _request(bot, path, unit, seeded)
                    if kind == "report":
                        body, url = None, f"{path}?by=unit"
                    before = _last_audit(bot)
                    answer = await api.request(method, url, json=body, headers=headers)
                    what = f"{method} {url} with {holder}: {answer.text[:300]}"
                    with bot.rt.db.session() as s:
                        trail = s.exec(select(AuditEntry).where(AuditEntry.id > before)).all()
                    if kind == "public":
                        assert answer.status_code == 200, what
                    elif secret is None:
                        assert answer.status_code == 401, what
                    elif kind == "report":
                        assert answer.status_code == 200, what
                        units = {"A": UNIT_A, "B": UNIT_B}
                        keys = [g["key"] for g in answer.json()["groups"]]
                        assert keys == sorted(units[u] for u in reach), what
                    elif unit not in reach:
                        # Another unit's application is answered as if it did not exist (a
                        # new one for another unit's service is refused outright).
                        assert answer.status_code in (403, 404), what
                        assert answer.json()["error"]["code"] in ("not_found", "other_unit")
                    else:
                        assert answer.status_code in (200, 201), what
                    if kind == "change" and answer.is_success:
                        # Every change is audited with the token's name as the actor.
                        assert [(a.api_token, a.actor_id) for a in trail] == [(name, None)], what
                    else:
                        assert trail == [], what
        by_service = await api.get("/api/v1/ikm", headers={"Authorization": f"Bearer {unit_a}"})
        assert [g["key"] for g in by_service.json()["groups"]] == [SERVICE_A]
        assert by_service.json()["overall"]["key"] == UNIT_A
