"""/ikm through the emulator: the supervisors' period and unit buttons, reports that hold back
the individual answers of a small group, exports in the office's language, the chart's named
elements on an axis from zero, and the citizens told when the next index is published."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from babel.dates import format_date
from openpyxl import load_workbook
from sqlmodel import select

from bot.core.models import Staff, utcnow
from bot.surveys.models import ANSWERED, SurveyInvitation, SurveyResponse
from bot.surveys.questionnaire import survey_config
from bot.surveys.report import period_containing

SUPERVISOR, CITIZEN = 9001, 1001
PROFILE = {"age_group": "a30_39", "sex": "female", "education": "s1", "occupation": "private"}


def running_month(rt):  # noqa: ANN001, ANN201
    return period_containing("month", utcnow().astimezone(rt.tz).date())


def fill(rt, answers: list[tuple[str, str]], period) -> None:  # noqa: ANN001
    """One complete response per (service, unit), an hour into ``period``, all 3s, with a
    profile and a suggestion."""
    config = survey_config(rt)
    completed = period.bounds(rt.tz)[0] + timedelta(hours=1)
    with rt.db.session() as s:
        start = len(s.exec(select(SurveyInvitation)).all())
        for number, (service, unit) in enumerate(answers, start=start + 1):
            invitation = SurveyInvitation(
                transaction_key=f"t{number}", user_id=number, service_id=service, unit=unit,
                status=ANSWERED, due_at=completed,
            )
            s.add(invitation)
            s.flush()
            s.add(SurveyResponse(
                invitation_id=invitation.id, service_id=service, unit=unit,
                started_at=completed, completed_at=completed, suggestion="Antrean lama",
                **{e.column: 3 for e in config.elements}, **PROFILE,
            ))


def workbook(bot, message):  # noqa: ANN001, ANN201
    return load_workbook(io.BytesIO(bot.emulator.files[message.document["file_id"]].data)).active


async def test_supervisor_picks_period_and_unit_and_small_units_stay_anonymous(
    make_bot, database_url
):
    bot = await make_bot(database_url)
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    month = running_month(rt)
    fill(rt, [("ktp-el", "kependudukan")] * 3 + [("paspor", "imigrasi-kepolisian")] * 2, month)
    supervisor = bot.user(SUPERVISOR, "Kepala", language_code="id")

    await supervisor.send("/ikm")
    periods = await supervisor.reply()
    assert "Periode mana?" in periods.text
    assert f"Bulan ini ({month.label})" in periods.labels
    assert f"Bulan lalu ({month.previous().label})" in periods.labels
    assert any(label.startswith("Triwulan ini (") for label in periods.labels)
    await supervisor.click(f"Bulan ini ({month.label})")
    units = await supervisor.reply()
    assert units.edited and "Unit mana?" in units.text
    assert units.labels[:2] == ["Seluruh kantor, per layanan", "Seluruh kantor, per unit"]
    assert "Administrasi Kependudukan" in units.labels

    # The whole office: five respondents, so the answers come one by one, in Indonesian.
    await supervisor.click("Seluruh kantor, per layanan")
    preparing, figures, chart, responses, summary = await supervisor.replies(5)
    assert preparing.edited and not preparing.buttons
    assert "5 responden" in figures.text and "🔒" not in figures.text
    assert chart.photo
    sheet = workbook(bot, responses)
    assert sheet.title == "jawaban" and sheet.max_row == 6
    assert [c.value for c in sheet[2]][-5:] == [
        "30-39 tahun", "Perempuan", "D4/S1", "Pegawai swasta", "Antrean lama"]
    totals = workbook(bot, summary)
    assert totals.title == "ringkasan"
    assert [c.value for c in totals[totals.max_row]][2] == "SEMUA"

    # One unit: three respondents, fewer than 5: figures yes, no answers one by one.
    await supervisor.send("/ikm")
    await supervisor.reply()
    await supervisor.click(f"Bulan ini ({month.label})")
    await supervisor.reply()
    await supervisor.click("Administrasi Kependudukan")
    _preparing, figures, chart, summary = await supervisor.replies(4)
    assert figures.text.splitlines()[3] == "Administrasi Kependudukan"
    assert "Hanya 3 responden, kurang dari 5: jawaban per orang, profil responden dan saran " \
           "mereka tidak ditampilkan" in figures.text
    assert "Paspor" not in figures.text
    assert chart.photo and summary.document["file_name"] == (
        f"ikm-summary-{month.label}-kependudukan.xlsx")
    keys = [row[2].value for row in workbook(bot, summary).iter_rows(min_row=2)]
    assert keys == ["ktp-el", "SEMUA"]
    await supervisor.expect_silence()

    # A unit no service has, or the buttons pressed by a citizen: refused, nothing sent.
    await supervisor.forge_click(f"ikr:u:{month.label}:nowhere")
    assert (await supervisor.callback_answer())["show_alert"]
    citizen = bot.user(CITIZEN, "Sari", language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    await citizen.forge_click(f"ikr:u:{month.label}:")
    assert (await citizen.callback_answer())["show_alert"]
    await citizen.expect_silence()
    await supervisor.expect_silence()


async def test_an_english_reader_in_an_indonesian_office(bot):
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    fill(rt, [("ktp-el", "kependudukan")] * 2, running_month(rt))
    supervisor = bot.user(SUPERVISOR, "Head", language_code="en")
    await supervisor.send("/ikm month")
    figures, chart, summary = await supervisor.replies(3)
    assert "🔒 Only 2 respondents, fewer than 5: the individual answers, the respondents' " \
           "profiles and their suggestions are not shown" in figures.text
    assert chart.photo
    # The office's files speak the office's language, whoever asks.
    header = [c.value for c in workbook(bot, summary)[1]]
    assert header[:4] == ["periode", "aturan", "layanan", "responden"]
    assert header[-2:] == ["indeks", "mutu"]


async def test_an_english_office_exports_in_english(make_bot, tmp_path):
    bot = await make_bot(f"sqlite:///{tmp_path}/en.db", default_locale="en")
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    fill(rt, [("paspor", "imigrasi-kepolisian")] * 5, running_month(rt))
    supervisor = bot.user(SUPERVISOR, "Head", language_code="en")
    await supervisor.send("/ikm month csv")
    _figures, _chart, responses, summary = await supervisor.replies(4)
    rows = list(csv.reader(io.StringIO(bot.emulator.files[responses.document["file_id"]]
                                       .data.decode())))
    assert rows[0][:4] == ["date", "service", "unit", "U1"]
    assert rows[0][-5:] == ["age_group", "sex", "education", "occupation", "suggestion"]
    assert rows[1][-5:] == ["30-39", "Female", "Bachelor", "Private employee", "Antrean lama"]
    text = bot.emulator.files[summary.document["file_id"]].data.decode()
    assert text.startswith("period,rule,service,respondents") and ",ALL,5," in text


async def test_citizens_are_told_when_the_index_is_published(bot):
    rt = bot.rt
    today = utcnow().astimezone(rt.tz).date()
    running = period_containing("month", today)
    english = bot.user(CITIZEN, "Sari", language_code="en")
    await english.send("/ikm")
    nothing = await english.reply()
    assert "No index has been published yet." in nothing.text and nothing.buttons == []
    assert (
        "The office publishes the index of each month once the month is over: the next one, "
        f"for {format_date(running.start, 'MMMM y', locale='en_GB')}, on "
        f"{format_date(running.end, 'd MMMM y', locale='en_GB')}."
    ) in nothing.text

    # Published for one service last month: another service's index is not there yet.
    fill(rt, [("ktp-el", "kependudukan")], running.previous())
    indonesian = bot.user(CITIZEN + 1, "Budi", language_code="id")
    await indonesian.send("/ikm")
    choice = await indonesian.reply()
    assert "Semua layanan" in choice.labels
    await indonesian.click("Paspor")
    shown = await indonesian.reply()
    assert "Indeks untuk periode ini belum diumumkan." in shown.text
    assert (
        f"berikutnya, untuk {format_date(running.start, 'MMMM y', locale='id_ID')}, pada "
        f"{format_date(running.end, 'd MMMM y', locale='id_ID')}."
    ) in shown.text


def test_the_chart_names_the_elements_on_an_axis_from_zero(sqlite_db):
    from bot.core.config import load_settings
    from bot.core.runtime import Runtime
    from bot.surveys.chart import chart_figure
    from bot.surveys.report import build_report, index_trend

    rt = Runtime(settings=load_settings(knowledge_dir="knowledge"), db=sqlite_db)
    config = survey_config(rt)
    month = running_month(rt)
    fill(rt, [("ktp-el", "kependudukan")], month)
    with sqlite_db.session() as s:
        report = build_report(s, config, month, rt.tz)
        trend = index_trend(s, config, month, rt.tz)
    for locale, first, last in (("id", "Persyaratan", "Sarana dan prasarana"),
                                ("en", "Requirements", "Facilities")):
        figure = chart_figure(report, trend, config, title="IKM", trend_title="t", locale=locale)
        bars, trend_axis = figure.axes
        # Top to bottom: the first element on top, as the questionnaire asks them.
        ticks = sorted(zip(bars.get_yticks(), bars.get_yticklabels(), strict=True),
                       key=lambda tick: -tick[0])
        names = [label.get_text().replace("\n", " ") for _place, label in ticks]
        assert names[0] == first and names[-1] == last
        assert len(names) == 9 and not any(n.startswith("U") and n[1:].isdigit() for n in names)
        assert bars.get_xlim()[0] == 0 and trend_axis.get_ylim()[0] == 0
        figure.clear()


def test_the_minimum_is_validated_from_the_environment(monkeypatch):
    from bot.core.config import load_settings
    from bot.core.errors import ConfigError

    assert load_settings().ikm_min_respondents == 5
    monkeypatch.setenv("IKM_MIN_RESPONDENTS", "10")
    assert load_settings().ikm_min_respondents == 10
    for bad in ("0", "lima"):
        monkeypatch.setenv("IKM_MIN_RESPONDENTS", bad)
        with pytest.raises(ConfigError, match="IKM_MIN_RESPONDENTS"):
            load_settings()
