"""The satisfaction index in the console and on the public /ikm page, and the follow-up
actions ("Anda berkata, kami lakukan") told to the citizens who answered the survey."""

from __future__ import annotations

import io
from datetime import date, timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.console.models import FollowUpAction
from bot.core.exports import XLSX_MIME
from bot.core.i18n import Translator
from bot.core.models import AuditEntry
from tests.support.console import (
    SUPERVISOR,
    citizen_in_chat,
    completed_applications,
    csrf_of,
    signed_in,
    start_console,
    survey_answers,
)

SECRET = "hubungi saya di 081234567890 ya"


@pytest.fixture
async def console(make_bot, database_url):  # noqa: ANN001, ANN201
    return await start_console(make_bot, database_url)


async def test_the_public_page_publishes_only_what_the_sample_allows(console):
    # KTP-el: 12 respondents of 12 transactions, all "good" (3) and "very good" (4): index.
    survey_answers(console, 6001, "ktp-el", [3, 3, 3, 4, 3, 4, 3, 3, 4], count=12,
                   suggestion=SECRET)
    # Passport: 10 respondents of 100 completed transactions, below the 80 needed.
    completed_applications(console, "paspor", 100)
    survey_answers(console, 6002, "paspor", [2, 2, 2, 2, 2, 2, 2, 2, 2], count=10)
    async with httpx.AsyncClient(base_url=console.server.base_url) as anyone:
        page = await anyone.get("/ikm?lang=id")
        assert page.status_code == 200
        text = page.text
        ktp_row = text[text.index("KTP-el"):][:600]
        assert "83,33" in ktp_row and "B (baik)" in ktp_row
        passport_row = text[text.index("Paspor"):][:600]
        assert "10 dari 80" in passport_row and "Responden belum cukup" in passport_row
        assert "50,00" not in text  # the passport's index is not shown
        # Nothing personal: no suggestion, no number, no user id.
        assert SECRET not in text and "081234567890" not in text and "6001" not in text
        assert page.headers["set-cookie"].startswith("servicebot_lang=id")
        english = await anyone.get("/ikm?lang=en")
        assert "Per service" in english.text and "respondents" in english.text
        chart = await anyone.get("/ikm/chart.png")
        assert chart.status_code == 200 and chart.content[:4] == b"\x89PNG"
        bad = await anyone.get("/ikm?period=nonsense")
        assert bad.status_code == 200  # falls back to the current year


async def test_a_follow_up_action_is_told_once_and_can_be_refused(console):
    first = await citizen_in_chat(console, 6101, "Ani")
    second = await citizen_in_chat(console, 6102, "Beni")
    elsewhere = await citizen_in_chat(console, 6103, "Cici")
    survey_answers(console, 6101, "ktp-el", [2] * 9, count=2)
    survey_answers(console, 6102, "kartu-keluarga", [3] * 9)  # same unit, other service
    survey_answers(console, 6103, "paspor", [2] * 9)
    supervisor = await signed_in(console, SUPERVISOR)
    try:
        page = await supervisor.get("/console/ikm?service=ktp-el")
        assert page.status_code == 200
        token = csrf_of(page.text)
        today = date.today().isoformat()
        published = await supervisor.post("/console/ikm/actions", data={
            "csrf": token, "service": "ktp-el", "element": "U3", "taken_on": today,
            "text": "Loket KTP-el kini buka sampai pukul 16.00 <b>setiap hari</b>.",
        })
        assert published.status_code == 303
        notice = await first.reply(timeout=10)
        assert "Anda berkata, kami lakukan" in notice.text
        assert "<b>setiap hari</b>" in notice.text  # the supervisor's text, escaped as text
        assert notice.labels == ["🔕 Jangan kirimi saya pesan ini lagi"]
        await second.expect_silence(0.5)
        await elsewhere.expect_silence(0.1)

        # Another unit's service is refused; a date in the future too.
        refused = await supervisor.post("/console/ikm/actions", data={
            "csrf": token, "service": "paspor", "element": "U3", "taken_on": today,
            "text": "Antrean paspor dipercepat."})
        assert refused.status_code == 422
        future = (date.today() + timedelta(days=3)).isoformat()
        refused = await supervisor.post("/console/ikm/actions", data={
            "csrf": token, "service": "ktp-el", "element": "U3", "taken_on": future,
            "text": "Sesuatu yang belum terjadi."})
        assert refused.status_code == 422

        await first.click("🔕 Jangan kirimi saya pesan ini lagi")
        assert (await first.callback_answer())["text"]
        edited = await first.reply(timeout=10)
        assert edited.edited and not edited.labels  # the button is gone
        # A unit-wide action: the second citizen hears of it, the one who opted out does not.
        unit_wide = await supervisor.post("/console/ikm/actions", data={
            "csrf": token, "service": "", "element": "U9", "taken_on": today,
            "text": "Ruang tunggu kini berpendingin udara."})
        assert unit_wide.status_code == 303
        assert "Ruang tunggu" in (await second.reply(timeout=10)).text
        await first.expect_silence(0.8)
        await elsewhere.expect_silence(0.1)

        with console.rt.db.session() as s:
            actions = s.exec(select(FollowUpAction)).all()
            assert [a.unit for a in actions] == ["kependudukan", "kependudukan"]
            assert len(s.exec(select(AuditEntry).where(
                AuditEntry.action == "ikm.followup", AuditEntry.actor_id == SUPERVISOR)).all()
            ) == 2
        async with httpx.AsyncClient(base_url=console.server.base_url) as anyone:
            public = await anyone.get("/ikm")
            assert "Loket KTP-el kini buka sampai pukul 16.00 &lt;b&gt;" in public.text
            assert "Ruang tunggu kini berpendingin udara." in public.text

        report = await supervisor.get("/console/ikm/report.pdf?service=ktp-el")
        assert report.status_code == 200 and report.content[:5] == b"%PDF-"
        # A file for the office's records: in the office's language (Indonesian here), whatever
        # the reader's.
        workbook = await supervisor.get("/console/ikm/report.xlsx?service=ktp-el&lang=en")
        assert workbook.status_code == 200
        assert workbook.headers["content-type"] == XLSX_MIME
        assert 'filename="ikm-' in workbook.headers["content-disposition"]
        book = load_workbook(io.BytesIO(workbook.content))
        id_ = Translator("id").gettext
        assert book.sheetnames == [id_("Index"), id_("Elements"), id_("Follow-up actions")]
        assert book.sheetnames[2] == "Tindak lanjut"
        header, *rows = list(book[id_("Index")].iter_rows())
        names = [c.value for c in header]
        assert names[:6] == [id_(n) for n in
                             ("Period", "From", "To", "Rule", "Service", "Respondents")]
        overall = {name: cell for name, cell in zip(names, rows[-1], strict=True)}
        # Dates as dates, the NRR and the index as numbers with their decimals.
        since = overall[id_("From")]
        assert since.is_date and since.number_format == "yyyy-mm-dd"
        assert overall[id_("Respondents")].value == 2
        assert overall["NRR U1"].value == 2.0 and overall["NRR U1"].number_format == "0.0000"
        index = overall[id_("Index")]
        assert index.value == 50.0 and index.number_format == "0.00"
        assert overall[id_("Grade")].value == id_("D (not good)")
        elements = list(book[id_("Elements")].iter_rows(min_row=2, values_only=True))
        assert len(elements) == 9 and elements[0][2:4] == (2.0, 50.0)
        (action,) = list(book[id_("Follow-up actions")].iter_rows(min_row=2))
        assert action[0].is_date and action[0].value.date() == date.today()
        assert action[3].value.startswith("Loket KTP-el kini buka")
        summary = await supervisor.get("/console/ikm/summary.csv?service=ktp-el")
        # In the office's language (Indonesian here).
        assert summary.text.startswith("periode,aturan,layanan,responden")
        # Two respondents, fewer than IKM_MIN_RESPONDENTS (5): no answers one by one, and why.
        responses = await supervisor.get("/console/ikm/responses.csv?service=ktp-el")
        assert responses.status_code == 409
        assert "Hanya 2 responden, kurang dari 5" in responses.text
    finally:
        await supervisor.aclose()
