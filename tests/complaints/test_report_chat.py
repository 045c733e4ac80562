"""End to end: /laporan shows the complainants' satisfaction and offers the period's export,
XLSX by default and CSV (issue 19), in English and Indonesian, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlmodel import select

from bot.complaints.access import viewer_for
from bot.complaints.feedback import record_feedback, record_rating
from bot.complaints.filing import file_complaint
from bot.complaints.handling import resolve
from bot.core.models import AuditEntry, Staff

CITIZEN, OTHER, OFFICER, SUPERVISOR, SUPERVISOR_ID = 1401, 1402, 2401, 3401, 3402
STORY = "Petugas meminta uang tambahan untuk mempercepat akta kelahiran."


def _seed(bot) -> list[str]:
    """Three complaints this month: one solved and rated 5, one sent back as not solved and
    rated 1, one still open."""
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
        s.add(Staff(telegram_id=SUPERVISOR_ID, role="supervisor"))
    tickets = []
    with rt.db.session() as s:
        officer = viewer_for(s, OFFICER)
        for verdict, stars in ((True, 5), (False, 1), (None, None)):
            c = file_complaint(
                s, rt, complainant_id=CITIZEN if verdict is not False else OTHER,
                complainant_name="Sari", category="pelayanan", description=STORY,
                privacy="named", place="loket 2",
            )
            tickets.append(c.ticket)
            if verdict is None:
                continue
            resolve(s, rt, c, actor=officer, answer="Sudah kami tangani.")
            complainant = c.complainant_id
            record_feedback(s, rt, c, complainant_id=complainant, solved=verdict)
            record_rating(s, rt, c, complainant_id=complainant, rating=stars)
    return tickets


async def test_the_report_shows_satisfaction_and_exports_xlsx_and_csv(make_bot, database_url):
    bot = await make_bot(database_url)
    solved, reopened, still_open = _seed(bot)
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="en")
    await supervisor.send("/report")
    await supervisor.reply()
    await supervisor.click("This month")
    report = await supervisor.reply()
    assert "Received: 3" in report.text
    assert "Complainants' satisfaction" in report.text
    assert "Average rating: 3.0 ⭐ (2 ratings)" in report.text
    assert "Reopened as not solved: 50% (1/2)" in report.text
    assert f"Low ratings (1–2 ⭐): 1: {reopened}" in report.text
    assert report.labels == ["📥 Export (XLSX)", "CSV"]

    await supervisor.click("📥 Export (XLSX)", report)
    sheet_doc = await supervisor.reply(timeout=8)
    assert sheet_doc.document["file_name"].endswith(".xlsx")
    assert "Anonymous complainants are not named" in sheet_doc.text
    data = bot.emulator.files[sheet_doc.document["file_id"]].data
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    header = list(rows[0])
    by_ticket = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_ticket) == {solved, reopened, still_open}
    assert (by_ticket[solved]["rating"], by_ticket[solved]["reopened"]) == (5, 0)
    assert (by_ticket[reopened]["rating"], by_ticket[reopened]["reopened"]) == (1, 1)
    assert by_ticket[still_open]["place"] == "loket 2"

    await supervisor.click("CSV", report)
    csv_doc = await supervisor.reply(timeout=8)
    assert csv_doc.document["file_name"].endswith(".csv")
    lines = list(csv.DictReader(io.StringIO(bot.emulator.files[csv_doc.document["file_id"]]
                                            .data.decode("utf-8"))))
    assert {line["ticket"]: line["reopened"] for line in lines} == {
        solved: "0", reopened: "1", still_open: "0"
    }
    with bot.rt.db.session() as s:
        exports = s.exec(
            select(AuditEntry).where(AuditEntry.action == "complaints.export")
        ).all()
        assert [(e.actor_id, e.detail["format"]) for e in exports] == [
            (SUPERVISOR, "xlsx"), (SUPERVISOR, "csv")
        ]

    # In Indonesian; a forged export button (end before start) changes nothing.
    pengawas = bot.user(SUPERVISOR_ID, first_name="Dewi", language_code="id")
    await pengawas.send("/laporan")
    await pengawas.reply()
    await pengawas.click("Bulan ini")
    laporan = await pengawas.reply()
    assert "Kepuasan pelapor" in laporan.text
    assert "Rata-rata penilaian: 3.0 ⭐ (2 penilaian)" in laporan.text
    assert "Dibuka kembali karena belum selesai: 50% (1/2)" in laporan.text
    assert laporan.labels == ["📥 Ekspor (XLSX)", "CSV"]
    await pengawas.forge_click("rp:f:xlsx:20261231:20260101", laporan)
    assert "tidak berlaku" in (await pengawas.callback_answer())["text"]
    # Officers get neither the report nor its export.
    officer = bot.user(OFFICER, language_code="id")
    await officer.send("/start")
    await officer.reply()
    await officer.forge_click("rp:f:csv:20260101:20261231")
    assert "tidak berlaku" in (await officer.callback_answer())["text"]
    await pengawas.expect_silence()
