"""The staff console against the real bot: a harness with the console mounted on the
emulator's server (as offline mode does), staff in two units, sign-in through the chat."""

from __future__ import annotations

import re
from typing import Any

import httpx

from bot.applications.lookup import follow
from bot.applications.models import Application
from bot.applications.service import register_application
from bot.applications.statuses import COMPLETED
from bot.complaints.filing import file_complaint
from bot.complaints.queries import set_staff_unit
from bot.complaints.vocabulary import categories
from bot.people.staff import add_staff
from bot.web import page_routes
from tests.support.e2e import BotHarness

ADMIN = 1
OFFICER = 200  # unit kependudukan (KTP-el, KK, ...)
SUPERVISOR = 300  # unit kependudukan
OTHER_OFFICER = 400  # unit imigrasi-kepolisian (passports, SKCK, SIM)
CITIZEN = 5000
UNIT = "kependudukan"
OTHER_UNIT = "imigrasi-kepolisian"
STORY = "Petugas loket meminta uang tambahan untuk mempercepat KTP saya <script>alert(1)</script>"
# A citizen's text with a NIK and a phone number, which staff read masked (bot/privacy/masking.py)
# unless the ticket's officer presses "show".
NIK = "3174012345678901"
PHONE = "0812-9876-5432"
MASKED_NIK = "3174********8901"
STORY_WITH_NUMBERS = f"{STORY}. NIK saya {NIK}, hubungi {PHONE}."
LINK = re.compile(r"https?://\S+/console/login/[\w-]+")


async def start_console(make_bot: Any, database_url: str, **settings: Any) -> BotHarness:
    harness = await make_bot(database_url, admin_ids=[ADMIN], **settings)
    harness.server.add_routes(page_routes(harness.rt))
    harness.rt.settings.public_url = harness.server.base_url
    with harness.rt.db.session() as s:
        for staff_id, role, unit in (
            (OFFICER, "officer", UNIT),
            (SUPERVISOR, "supervisor", UNIT),
            (OTHER_OFFICER, "officer", OTHER_UNIT),
        ):
            add_staff(s, telegram_id=staff_id, role=role, actor_id=ADMIN)
            s.flush()
            set_staff_unit(s, telegram_id=staff_id, unit=unit, actor_id=ADMIN)
    return harness


async def link_from_chat(harness: BotHarness, staff_id: int) -> str:
    user = harness.user(staff_id, f"Staff {staff_id}")
    await user.send("/konsol")
    reply = await user.reply(timeout=10)
    match = LINK.search(reply.text)
    assert match, reply.text
    return match.group(0)


async def signed_in(harness: BotHarness, staff_id: int) -> httpx.AsyncClient:
    """An HTTP client with a console session of this staff member."""
    link = await link_from_chat(harness, staff_id)
    client = httpx.AsyncClient(base_url=harness.server.base_url, timeout=15)
    answer = await client.post(link)
    assert answer.status_code == 303, answer.text
    return client


def knowledge_copy(tmp_path: Any) -> Any:
    """A copy of the sample knowledge base that a test may edit."""
    import shutil

    from bot.core.config import PROJECT_ROOT

    target = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", target)
    return target


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def application_with_follower(harness: BotHarness, service_id: str = "ktp-el",
                              follower: int | None = CITIZEN) -> Application:
    with harness.rt.db.session() as s:
        application = register_application(
            s, harness.rt, service_id=service_id, applicant_name="Sari Wulandari",
            actor_id=OFFICER,
        )
        s.flush()
        if follower is not None:
            follow(s, application=application, user_id=follower)
    return application


def complaint(harness: BotHarness, *, unit: str | None = UNIT, privacy: str = "anonymous",
              description: str = STORY) -> Any:
    with harness.rt.db.session() as s:
        category = categories(harness.rt)[0].key
        filed = file_complaint(
            s, harness.rt, complainant_id=CITIZEN, complainant_name="Budi Santoso",
            category=category, description=description, privacy=privacy,
        )
        filed.unit = unit
        s.add(filed)
    return filed


async def citizen_in_chat(harness: BotHarness, user_id: int = CITIZEN, name: str = "Sari") -> Any:
    """A citizen who has started the bot (Telegram refuses messages to anyone else)."""
    citizen = harness.user(user_id, name)
    await citizen.send("/start")
    await citizen.reply(timeout=10)
    await harness.settle()
    return citizen


def survey_answers(harness: BotHarness, user_id: int, service_id: str, answers: list[int],
                   *, count: int = 1, suggestion: str | None = None) -> None:
    """``count`` completed surveys of one citizen for a service, every element answered alike."""
    from bot.core.models import utcnow
    from bot.surveys.models import ANSWERED, SurveyInvitation, SurveyResponse
    from bot.surveys.questionnaire import service_unit

    now = utcnow()
    with harness.rt.db.session() as s:
        for n in range(count):
            invitation = SurveyInvitation(
                transaction_key=f"test:{user_id}:{service_id}:{n}:{now.timestamp()}",
                user_id=user_id, service_id=service_id,
                unit=service_unit(harness.rt, service_id), status=ANSWERED, due_at=now,
            )
            s.add(invitation)
            s.flush()
            values = {f"u{i + 1}": a for i, a in enumerate(answers)}
            s.add(SurveyResponse(
                invitation_id=invitation.id, service_id=service_id,
                unit=service_unit(harness.rt, service_id), step="done", completed_at=now,
                finished_at=now, suggestion=suggestion, **values,
            ))


def completed_applications(harness: BotHarness, service_id: str, count: int) -> None:
    """Transactions finished in the period: the population the minimum sample is taken from."""
    from bot.core.models import utcnow

    now = utcnow()
    with harness.rt.db.session() as s:
        for n in range(count):
            s.add(Application(
                tracking_number=f"T{n:07d}{service_id[:3].upper()}"[:16], service_id=service_id,
                applicant_name="Warga", verification_code="000000", status=COMPLETED,
                received_at=now, due_at=now, closed_at=now, updated_at=now,
            ))
