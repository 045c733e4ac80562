"""Editing the knowledge base in the console: a fee changed in the form is checked, previewed
in both languages, saved to the YAML file with its history, and the bot answers with it."""

from __future__ import annotations

from sqlmodel import select

from bot.console.models import KnowledgeEdit
from bot.core.models import AuditEntry
from tests.support.console import (
    ADMIN,
    citizen_in_chat,
    csrf_of,
    knowledge_copy,
    signed_in,
    start_console,
)


async def test_a_fee_edited_in_the_console_changes_the_bots_answer(make_bot, database_url,
                                                                   tmp_path):
    folder = knowledge_copy(tmp_path)
    bot = await start_console(make_bot, database_url, knowledge_dir=folder)
    citizen = await citizen_in_chat(bot)
    path = folder / "services" / "skck.yaml"
    original = path.read_text(encoding="utf-8")
    admin = await signed_in(bot, ADMIN)
    try:
        page = await admin.get("/console/knowledge/skck")
        assert page.status_code == 200 and 'id="fee" value="30000"' in page.text
        token = csrf_of(page.text)

        refused = await admin.post("/console/knowledge/skck/preview",
                                   data={"csrf": token, "fee": "-5"})
        assert refused.status_code == 422
        assert "services/skck.yaml:" in refused.text and "fee.amount" in refused.text
        broken = await admin.post("/console/knowledge/skck/save", data={
            "csrf": token, "text": original.replace("id: skck", "id: [skck")})
        assert broken.status_code == 422
        assert path.read_text(encoding="utf-8") == original  # nothing written

        checked = await admin.post("/console/knowledge/skck/preview",
                                   data={"csrf": token, "fee": "35000"})
        assert checked.status_code == 200
        # The fee and overview answers, each in Indonesian and English.
        assert checked.text.count("Rp35.000") == 2 and checked.text.count("Rp35,000") == 2
        assert "Fee: <b>Rp35,000" in checked.text and "Biaya: <b>Rp35.000" in checked.text
        assert path.read_text(encoding="utf-8") == original  # a preview writes nothing
        saved = await admin.post("/console/knowledge/skck/save",
                                 data={"csrf": token, "fee": "35000"})
        assert saved.status_code == 303
        written = path.read_text(encoding="utf-8")
        assert written == original.replace("amount: 30000", "amount: 35000", 1)

        await citizen.send("biaya skck")
        answer = await citizen.reply(timeout=10)
        assert "Rp35.000" in answer.text and "Rp30.000" not in answer.text

        with bot.rt.db.session() as s:
            (edit,) = s.exec(select(KnowledgeEdit)).all()
            assert (edit.path, edit.before, edit.after, edit.edited_by) == (
                "services/skck.yaml", original, written, ADMIN)
            assert s.exec(select(AuditEntry).where(
                AuditEntry.action == "knowledge.edit")).first().actor_id == ADMIN
        history = await admin.get("/console/knowledge/skck")
        assert f"{ADMIN}" in history.text.split("History", 1)[-1] or "Riwayat" in history.text
    finally:
        await admin.aclose()


async def test_the_office_file_changes_hours_and_closing_days(make_bot, database_url, tmp_path):
    from datetime import date

    folder = knowledge_copy(tmp_path)
    bot = await start_console(make_bot, database_url, knowledge_dir=folder)
    path = folder / "office.yaml"
    original = path.read_text(encoding="utf-8")
    admin = await signed_in(bot, ADMIN)
    try:
        page = await admin.get("/console/knowledge/office")
        assert page.status_code == 200 and 'id="fee"' not in page.text
        token = csrf_of(page.text)
        changed = original.replace('monday: "08:00-15:00"', 'monday: "07:30-15:00"', 1).replace(
            "closures:\n", "closures:\n  - date: 2026-12-24\n    reason: {id: Kerja bakti, "
            "en: Community work day}\n", 1)
        bad = await admin.post("/console/knowledge/office/save", data={
            "csrf": token, "text": changed.replace('"07:30-15:00"', '"7:30 sampai 3"')})
        assert bad.status_code == 422 and "office.yaml:" in bad.text
        assert path.read_text(encoding="utf-8") == original
        checked = await admin.post("/console/knowledge/office/preview",
                                   data={"csrf": token, "text": changed})
        assert checked.status_code == 200
        hours = checked.text.split('id="preview-hours-id"', 1)[1].split("</div>", 1)[0]
        assert "07.30" in hours or "07:30" in hours
        saved = await admin.post("/console/knowledge/office/save",
                                 data={"csrf": token, "text": changed})
        assert saved.status_code == 303
        assert path.read_text(encoding="utf-8") == changed
        # Due dates from now on skip the new closing day.
        assert date(2026, 12, 24) in bot.rt.calendar.closed_dates
        assert bot.rt.knowledge.office.closed_dates >= {date(2026, 12, 24)}
    finally:
        await admin.aclose()


async def test_entries_and_situations_are_edited_as_the_services(make_bot, database_url,
                                                                 tmp_path):
    folder = knowledge_copy(tmp_path)
    bot = await start_console(make_bot, database_url, knowledge_dir=folder)
    citizen = await citizen_in_chat(bot)
    path = folder / "entries" / "parkir.yaml"
    original = path.read_text(encoding="utf-8")
    admin = await signed_in(bot, ADMIN)
    try:
        listing = await admin.get("/console/knowledge")
        assert 'href="/console/knowledge/entries/parkir">Apakah ada tempat parkir?' in listing.text
        assert 'href="/console/knowledge/situations/kelahiran"' in listing.text
        page = await admin.get("/console/knowledge/entries/parkir")
        assert page.status_code == 200 and 'id="fee"' not in page.text
        assert "Free parking for motorbikes" in page.text.split('id="preview-answer-en"')[1]
        token = csrf_of(page.text)
        changed = original.replace("tersedia gratis", "tersedia gratis 24 jam")
        checked = await admin.post("/console/knowledge/entries/parkir/preview",
                                   data={"csrf": token, "text": changed})
        assert checked.status_code == 200
        assert "gratis 24 jam" in checked.text.split('id="preview-answer-id"')[1]
        assert path.read_text(encoding="utf-8") == original
        saved = await admin.post("/console/knowledge/entries/parkir/save",
                                 data={"csrf": token, "text": changed})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/console/knowledge/entries/parkir?saved=1"
        assert path.read_text(encoding="utf-8") == changed
        await citizen.send("ada tempat parkir?")
        assert "gratis 24 jam" in (await citizen.reply(timeout=10)).text

        # A situation's step naming no service: refused with its file and line.
        birth = folder / "situations" / "kelahiran.yaml"
        before = birth.read_text(encoding="utf-8")
        wrong = before.replace("service: akta-kelahiran", "service: akta-lahir", 1)
        refused = await admin.post("/console/knowledge/situations/kelahiran/save",
                                   data={"csrf": token, "text": wrong})
        assert refused.status_code == 422
        assert "situations/kelahiran.yaml:" in refused.text and "akta-lahir" in refused.text
        assert birth.read_text(encoding="utf-8") == before
        assert (await admin.get("/console/knowledge/entries/nothing")).status_code == 403
        with bot.rt.db.session() as s:
            assert [e.path for e in s.exec(select(KnowledgeEdit))] == ["entries/parkir.yaml"]
    finally:
        await admin.aclose()
