"""An anonymous complaint leaves no record staff can read that ties its ticket to the person:
not the audit log admins export (/audit, CSV and XLSX), not the group's post; a named one still
says who filed it. Migration 0016_privacy clears the lines written before."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.complaints.access import viewer_for
from bot.complaints.feedback import record_feedback, record_rating
from bot.complaints.filing import file_complaint, get_complaint
from bot.complaints.handling import resolve
from bot.complaints.models import Complaint
from bot.core.db import Database
from bot.core.models import AuditEntry, Staff, utcnow
from bot.people.roles import audit
from tests.support.complaints import file_in_chat
from tests.support.migrations import database_at

GROUP = -100700
ANONYMOUS, NAMED, OFFICER, ADMIN = 6104417731, 6104417732, 2001, 9001


def _document(bot, message) -> bytes:  # noqa: ANN001
    assert message.document is not None, message.describe()
    return bot.emulator.files[message.document["file_id"]].data


async def test_audit_and_group_post_never_tie_an_anonymous_ticket_to_its_complainant(
    make_bot, database_url
):
    bot = await make_bot(database_url, complaints_chat_id=GROUP, admin_ids=[ADMIN])
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer"))
    group = bot.group(GROUP)
    citizen = bot.user(ANONYMOUS, first_name="Dewi", language_code="id")
    admin = bot.user(ADMIN, language_code="en")
    for user in (citizen, admin):
        await user.send("/start")
        await user.reply()

    await file_in_chat(citizen, "Petugas loket dua membentak saya tanpa alasan.", "anonymous")
    post = await group.reply(timeout=8)
    assert "Anonim" in post.text and "Dewi" not in post.text and str(ANONYMOUS) not in post.text
    with rt.db.session() as s:
        secret = s.exec(select(Complaint).where(Complaint.complainant_id == ANONYMOUS)).one()
        named = file_complaint(
            s, rt, complainant_id=NAMED, complainant_name="Joko", category="petugas",
            description="Antrean di loket satu tidak dipanggil sesuai nomor.", privacy="named",
        )
    # The complainant's own steps on the ticket: not solved, then solved and rated.
    officer = lambda s: viewer_for(s, OFFICER)  # noqa: E731
    for solved in (False, True):
        with rt.db.session() as s:
            c = get_complaint(s, secret.id, for_update=True)
            resolve(s, rt, c, actor=officer(s), answer="Petugas sudah ditegur.")
        with rt.db.session() as s:
            c = get_complaint(s, secret.id, for_update=True)
            record_feedback(s, rt, c, complainant_id=ANONYMOUS, solved=solved)
    with rt.db.session() as s:
        c = get_complaint(s, secret.id, for_update=True)
        record_rating(s, rt, c, complainant_id=ANONYMOUS, rating=4)

    await admin.send("/audit csv")
    sent = await admin.reply()
    body = _document(bot, sent).decode()
    assert str(ANONYMOUS) not in body
    rows = list(csv.DictReader(io.StringIO(body)))
    about_secret = [r for r in rows if r["subject"] == secret.ticket]
    assert {r["action"] for r in about_secret} >= {
        "complaint.filed", "complaint.resolved", "complaint.reopened", "complaint.closed",
        "complaint.rated",
    }
    by_citizen = [r for r in about_secret if r["action"] != "complaint.resolved"]
    assert all(r["actor_id"] == "" and '"actor": "anonymous"' in r["detail"] for r in by_citizen)
    assert all(r["actor_id"] == str(OFFICER) for r in about_secret if r not in by_citizen)
    # A named complaint still says who filed it.
    [filed] = [r for r in rows if r["subject"] == named.ticket]
    assert filed["actor_id"] == str(NAMED)

    await admin.send("/audit")
    sheet = load_workbook(io.BytesIO(_document(bot, await admin.reply()))).active
    assert all(cell.value not in (ANONYMOUS, str(ANONYMOUS)) for row in sheet for cell in row)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0014(request: pytest.FixtureRequest, tmp_path) -> Database:  # noqa: ANN001
    """A database just before the anonymity migration (0016_privacy). The rows the test writes
    use today's models, so that migration must stay the newest, or the rows be plain SQL."""
    db = database_at(request, tmp_path, "0018_complaints19")
    yield db
    db.dispose()


def test_migration_clears_the_old_lines_that_tied_anonymous_tickets_to_people(at_0014):
    db = at_0014
    now = utcnow()
    common = dict(category="petugas", description="x" * 30, status="received", received_at=now,
                  verify_due=now, response_due=now, resolve_due=now, updated_at=now)
    with db.session() as s:
        s.add(Complaint(ticket="ADU-AAAAAA", complainant_id=ANONYMOUS, privacy="anonymous",
                        **common))
        s.add(Complaint(ticket="ADU-BBBBBB", complainant_id=NAMED, complainant_name="Joko",
                        privacy="named", **common))
        for actor, action, subject in (
            (ANONYMOUS, "complaint.filed", "ADU-AAAAAA"),
            (ANONYMOUS, "complaint.rated", "ADU-AAAAAA"),
            (OFFICER, "complaint.reply", "ADU-AAAAAA"),
            (NAMED, "complaint.filed", "ADU-BBBBBB"),
            (None, "personal_data.erased", f"user:{ANONYMOUS + 9}"),
        ):
            audit(s, actor_id=actor, action=action, subject=subject)
    db.upgrade()
    with db.session() as s:
        lines = [(e.actor_id, e.action, e.subject)
                 for e in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert lines == [
        (None, "complaint.filed", "ADU-AAAAAA"),
        (None, "complaint.rated", "ADU-AAAAAA"),
        (OFFICER, "complaint.reply", "ADU-AAAAAA"),
        (NAMED, "complaint.filed", "ADU-BBBBBB"),
        (None, "personal_data.erased", None),
    ]
