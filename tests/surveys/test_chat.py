"""End to end through the emulator: a completed application's survey, with the clock moved."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date
from openpyxl import load_workbook
from sqlmodel import select

from bot.applications.lookup import follow
from bot.applications.service import change_status, register_application
from bot.core.models import Staff, utcnow
from bot.surveys.models import SurveyInvitation, SurveyResponse
from bot.surveys.report import parse_period
from bot.surveys.schedule import process_due_invitations
from handlers.outbox_delivery import drain_outbox

CITIZEN = 1001
SUPERVISOR = 9001
# The test's dates lie after the real clock, so the bot's own background jobs (ticking on real
# time) never touch what the test schedules.


def at(rt, day: int, hour: int, minute: int = 0) -> datetime:  # noqa: ANN001
    """A moment in March 2027, office time, as aware UTC."""
    return datetime(2027, 3, day, hour, minute, tzinfo=rt.tz).astimezone(UTC)


def service_id(rt) -> str:  # noqa: ANN001
    return next(iter(rt.knowledge.services))


def complete_application(rt, user_id: int, completed_at: datetime) -> int:  # noqa: ANN001
    """Register an application, let the citizen follow it, and walk it to completed."""
    with rt.db.session() as s:
        application = register_application(
            s, rt, service_id=service_id(rt), applicant_name="Sari Dewi", actor_id=None,
            now=completed_at - timedelta(days=3),
        )
        number, application_id = application.tracking_number, application.id
    for status in ("in_verification", "in_process", "ready_for_pickup"):
        with rt.db.session() as s:
            change_status(s, rt, tracking_number=number, status=status, actor_id=None,
                          now=completed_at - timedelta(hours=1))
    with rt.db.session() as s:
        follow(s, application=s.get(type(application), application_id), user_id=user_id,
               now=completed_at - timedelta(minutes=30))
    with rt.db.session() as s:
        change_status(s, rt, tracking_number=number, status="completed", actor_id=None,
                      now=completed_at)
    return application_id


def tick(rt, now: datetime):  # noqa: ANN001, ANN201
    with rt.db.session() as s:
        return process_due_invitations(s, rt, now)


async def test_survey_after_completion_reminder_double_press_and_chart(make_bot, database_url):
    # One respondent is enough here to see the individual answers (IKM_MIN_RESPONDENTS=1);
    # the default of 5 holds them back (tests/surveys/test_ikm_chat.py).
    bot = await make_bot(database_url, ikm_min_respondents=1)
    rt = bot.rt
    citizen = bot.user(CITIZEN, "Sari", language_code="id")
    await citizen.send("/start")
    await citizen.reply()

    # Completed at 19:30: two hours later is quiet time, so the invitation waits until 07:00.
    completed = at(rt, 10, 19, 30)
    complete_application(rt, CITIZEN, completed)
    await drain_outbox(bot.app, rt, now=completed)
    notice = await citizen.reply()  # the status notice of the application feature
    assert notice.text
    with rt.db.session() as s:
        invitation = s.exec(select(SurveyInvitation)).one()
        assert invitation.due_at == at(rt, 11, 7, 0)
        invitation_id = invitation.id
    assert tick(rt, at(rt, 10, 21, 30)).invited == 0
    await drain_outbox(bot.app, rt, now=at(rt, 10, 21, 30))
    await citizen.expect_silence()

    assert tick(rt, at(rt, 11, 7, 0)).invited == 1
    await drain_outbox(bot.app, rt, now=at(rt, 11, 7, 0))
    invite = await citizen.reply()
    assert "Bagaimana pelayanan kami?" in invite.text
    assert invite.labels == ["Mulai survei", "Tidak, terima kasih"]

    await citizen.click("Mulai survei")
    question = await citizen.reply()
    assert question.edited and "Pertanyaan 1/9" in question.text
    assert question.labels == ["Sangat sesuai", "Sesuai", "Kurang sesuai", "Tidak sesuai"]
    for label, progress in (("Sesuai", "2/9"), ("Mudah", "3/9"), ("Cepat", "4/9")):
        await citizen.click(label)
        question = await citizen.reply()
        assert f"Pertanyaan {progress}" in question.text
    await citizen.click("Gratis")
    after_u4 = await citizen.reply()
    assert "Pertanyaan 5/9" in after_u4.text
    # The same press again (a double tap, or Telegram redelivering it): counted once.
    await citizen.forge_click(f"sv:a:{invitation_id}:U4:1", after_u4)
    answer = await citizen.callback_answer()
    assert answer["text"] == "Jawaban Anda untuk pertanyaan ini sudah tercatat."
    await citizen.expect_silence()

    # They stop halfway: one reminder after 24 hours, which continues where they stopped.
    assert tick(rt, at(rt, 12, 6, 59)).reminded == 0
    assert tick(rt, at(rt, 12, 7, 1)).reminded == 1
    assert tick(rt, at(rt, 12, 7, 2)).reminded == 0
    await drain_outbox(bot.app, rt, now=at(rt, 12, 7, 2))
    reminder = await citizen.reply()
    assert "Anda sudah menjawab 4 dari 9 pertanyaan" in reminder.text
    await citizen.click("Lanjutkan survei", reminder)
    question = await citizen.reply()
    assert "Pertanyaan 5/9" in question.text
    for label in ("Sesuai", "Kompeten", "Sopan dan ramah", "Dikelola dengan baik"):
        await citizen.click(label)
        await citizen.reply()
    await citizen.click("Sangat baik")
    suggestion = await citizen.reply()
    assert "saran" in suggestion.text
    await citizen.send("Ruang tunggu <panas>, mohon tambah kipas")
    profile = await citizen.reply()
    assert "Terima kasih, saran Anda sudah kami catat." in profile.text
    assert "Berapa usia Anda?" in profile.text
    await citizen.click("30-39 tahun")
    for _ in range(3):
        await citizen.reply()
        await citizen.click("Lewati")
    thanks = await citizen.reply()
    assert "Terima kasih atas jawaban Anda!" in thanks.text
    assert thanks.buttons == []

    with rt.db.session() as s:
        [response] = s.exec(select(SurveyResponse)).all()
        answers = [getattr(response, f"u{n}") for n in range(1, 10)]
        assert answers == [3, 3, 3, 4, 3, 3, 3, 4, 4]
        assert response.suggestion == "Ruang tunggu <panas>, mohon tambah kipas"
        assert (response.age_group, response.sex, response.step) == ("a30_39", None, "done")
    # Answered: no further message, even when the job runs long after.
    tick(rt, at(rt, 20, 9, 0))
    await drain_outbox(bot.app, rt, now=at(rt, 20, 9, 0))
    await citizen.expect_silence()

    # The supervisor gets the figures, the chart and the two CSV files.
    with rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    supervisor = bot.user(SUPERVISOR, "Kepala", language_code="id")
    # The answers were given now (real time), so they count in the running month.
    month = parse_period("", utcnow().astimezone(rt.tz).date()).label
    await supervisor.send(f"/ikm {month}")
    figures, chart, responses, summary = await supervisor.replies(4)
    assert f"Indeks Kepuasan Masyarakat (IKM), {month}" in figures.text
    assert "Indeks 83,33, mutu B (baik)" in figures.text
    assert chart.photo
    png = bot.emulator.files[chart.photo[-1]["file_id"]].data
    assert png.startswith(b"\x89PNG")
    # XLSX by default: typed cells an Indonesian Excel opens right.
    assert responses.document["file_name"] == f"ikm-responses-{month}.xlsx"
    sheet = load_workbook(io.BytesIO(bot.emulator.files[responses.document["file_id"]].data)).active
    row = [c.value for c in sheet[2]]
    # An Indonesian office: Indonesian headers, profile answers as their Indonesian labels.
    assert sheet.title == "jawaban"
    assert [c.value for c in sheet[1]][:4] == ["tanggal", "layanan", "unit", "U1"]
    assert [c.value for c in sheet[1]][-5:] == [
        "kelompok_usia", "jenis_kelamin", "pendidikan", "pekerjaan", "saran"]
    assert sheet["A2"].is_date and row[3:] == [
        3, 3, 3, 4, 3, 3, 3, 4, 4, "30-39 tahun", None, None, None,
        "Ruang tunggu <panas>, mohon tambah kipas",
    ]
    assert summary.document["file_name"] == f"ikm-summary-{month}.xlsx"
    totals = load_workbook(io.BytesIO(bot.emulator.files[summary.document["file_id"]].data)).active
    index = [c for c in totals[totals.max_row]][-2]
    assert index.value == pytest.approx(83.33, abs=0.005) and index.number_format == "0.00"
    # CSV on request.
    await supervisor.send(f"/ikm {month} csv")
    _, _, responses, summary = await supervisor.replies(4)
    assert responses.document["file_name"] == f"ikm-responses-{month}.csv"
    csv_text = bot.emulator.files[responses.document["file_id"]].data.decode()
    assert csv_text.splitlines()[1].endswith(",3,3,3,4,3,3,3,4,4,30-39 tahun,,,,"
                                              "\"Ruang tunggu <panas>, mohon tambah kipas\"")
    assert str(CITIZEN) not in csv_text
    assert summary.document["file_name"] == f"ikm-summary-{month}.csv"
    # A citizen asking the same gets the public view, not the report: the answers are of the
    # running month, so nothing is published yet, and the citizen is told when it will be.
    await citizen.send("/ikm")
    public = await citizen.reply()
    assert "Belum ada indeks yang diumumkan." in public.text and not public.photo
    assert public.buttons == []
    running = parse_period("month", utcnow().astimezone(rt.tz).date())
    assert (
        f"berikutnya, untuk {format_date(running.start, 'MMMM y', locale='id_ID')}, pada "
        f"{format_date(running.end, 'd MMMM y', locale='id_ID')}." in public.text
    )


async def test_restart_between_scheduling_and_sending_sends_once(make_bot, database_url):
    first = await make_bot(database_url)
    rt = first.rt
    citizen = first.user(CITIZEN, "Sari", language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    completed = at(rt, 10, 9, 0)
    complete_application(rt, CITIZEN, completed)
    await drain_outbox(first.app, rt, now=completed)
    await citizen.reply()  # the application's completion notice
    assert tick(rt, at(rt, 10, 10, 59)).invited == 0  # the two hours are not over yet
    assert tick(rt, at(rt, 10, 11, 0)).invited == 1  # queued, not yet sent: then a restart
    await first.stop()

    again = await make_bot(database_url, emulator=first.emulator)
    citizen = again.user(CITIZEN)
    assert tick(again.rt, at(rt, 10, 11, 1)).invited == 0
    await drain_outbox(again.app, again.rt, now=at(rt, 10, 11, 1))
    invite = await citizen.reply()
    assert "How was our service?" in invite.text
    tick(again.rt, at(rt, 10, 11, 2))
    await drain_outbox(again.app, again.rt, now=at(rt, 10, 11, 2))
    await citizen.expect_silence()


async def test_declined_and_forged_presses_change_nothing(bot):
    rt = bot.rt
    citizen = bot.user(CITIZEN, "Sari", language_code="en")
    intruder = bot.user(2002, "Other", language_code="en")
    for user in (citizen, intruder):
        await user.send("/start")
        await user.reply()
    complete_application(rt, CITIZEN, at(rt, 10, 9, 0))
    await drain_outbox(bot.app, rt, now=at(rt, 10, 9, 0))
    await citizen.reply()  # the application's completion notice
    tick(rt, at(rt, 10, 11, 0))
    await drain_outbox(bot.app, rt, now=at(rt, 10, 11, 0))
    invite = await citizen.reply()
    with rt.db.session() as s:
        invitation_id = s.exec(select(SurveyInvitation)).one().id
    # Someone else's invitation id in forged data: refused, nothing recorded.
    await intruder.forge_click(f"sv:a:{invitation_id}:U1:4")
    answer = await intruder.callback_answer()
    assert "no longer valid" in answer["text"]
    await citizen.click("No, thanks", invite)
    closed = await citizen.reply()
    assert "we will not ask you about this again" in closed.text
    await citizen.forge_click(f"sv:go:{invitation_id}", closed)
    assert "closed" in (await citizen.callback_answer())["text"]
    tick(rt, at(rt, 11, 12, 0))
    await drain_outbox(bot.app, rt, now=at(rt, 11, 12, 0))
    await citizen.expect_silence()
    with rt.db.session() as s:
        assert s.exec(select(SurveyResponse)).all() == []


async def test_on_demand_survey_and_published_index_for_citizens(bot):
    from handlers.surveys.ikm import published_period

    rt = bot.rt
    citizen = bot.user(CITIZEN, "Sari", language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    await citizen.click("⭐ Survey")  # the main menu's button opens the same choice
    menu = await citizen.reply()
    name = rt.knowledge.services[service_id(rt)].name("en")
    assert name in menu.labels
    await citizen.click(name)
    question = await citizen.reply()
    assert "Question 1/9" in question.text
    for _ in range(9):
        await citizen.click(question.labels[0])  # the best answer of each question
        question = await citizen.reply()
    assert "suggestion" in question.text
    await citizen.click("Skip")
    await citizen.reply()
    # A second on-demand survey of the same service in the same month is not opened.
    await citizen.send("/survey")
    await citizen.reply()
    await citizen.click(name)
    again = await citizen.reply()
    assert "already gave your opinion" in again.text

    # Citizens see the last complete month's published index.
    period = published_period(rt)
    start, _end = period.bounds(rt.tz)
    with rt.db.session() as s:
        response = s.exec(select(SurveyResponse)).one()
        response.completed_at = start + timedelta(days=1)
        s.add(response)
    await citizen.send("/ikm")
    choose = await citizen.reply()
    await citizen.click("All services", choose)
    shown = await citizen.reply()
    assert f"Period: {period.label}" in shown.text
    assert "Satisfaction index: 100.00, grade A (very good)" in shown.text
    assert "From 1 respondent." in shown.text
