"""Survey domain: configuration, answering once, the schedule in the database, SQL reports."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.models import User
from bot.core.runtime import Runtime
from bot.core.timewindows import QuietHours
from bot.outbox.models import OutboxMessage
from bot.surveys import ikm
from bot.surveys.answering import begin, decline, record_answer, record_profile, record_suggestion
from bot.surveys.exports import responses_csv, summary_csv
from bot.surveys.invitations import SurveyError, schedule_after_completion, schedule_from_settings
from bot.surveys.models import (
    ANSWERED,
    DECLINED,
    EXPIRED,
    REMINDED,
    SENT,
    SurveyInvitation,
    SurveyResponse,
)
from bot.surveys.questionnaire import SurveyConfigError, load_survey_config, parse_survey_config
from bot.surveys.report import build_report, index_trend, parse_period
from bot.surveys.schedule import TickResult, process_due_invitations

SURVEY_FILE = PROJECT_ROOT / "knowledge" / "survey.yaml"
JAKARTA = load_settings().tz
CITIZEN = 4242


@pytest.fixture
def config():
    return load_survey_config(SURVEY_FILE)


@pytest.fixture
def rt(db) -> Runtime:
    return Runtime(settings=load_settings(survey_file=SURVEY_FILE), db=db)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA).astimezone(UTC)


def raw_config() -> dict:
    return yaml.safe_load(SURVEY_FILE.read_text(encoding="utf-8"))


# --- configuration ---------------------------------------------------------------------------


def test_sample_configuration_is_the_regulations_nine(config):
    assert config.rule == "14/2017"
    assert [e.code for e in config.elements] == [f"U{n}" for n in range(1, 10)]
    assert sum(config.weights) == 1
    assert all(len(e.answers) == 4 for e in config.elements)
    assert config.elements[3].answers[3].id == "Gratis"


def test_configuration_problems_are_all_named():
    data = raw_config()
    data["elements"][0]["answers"] = data["elements"][0]["answers"][:3]
    data["elements"][1]["code"] = "U1"
    data["elements"][2]["name"] = {"id": "Waktu"}
    data["rule"] = "2020"
    with pytest.raises(SurveyConfigError) as err:
        parse_survey_config(data, "survey.yaml")
    text = "\n".join(err.value.problems)
    assert "survey.yaml: elements[1].answers: needs exactly 4 labels" in text
    assert "elements[2].code: U1 appears twice" in text
    assert "elements[3].name: needs text in both languages" in text
    assert "rule: '2020' is not one of" in text


def test_weights_must_sum_to_one():
    data = raw_config()
    for element in data["elements"]:
        element["weight"] = 0.11
    with pytest.raises(SurveyConfigError, match="weights sum to 0.990000"):
        parse_survey_config(data)
    for element in data["elements"]:
        element["weight"] = "1/9"
    assert parse_survey_config(data).weights == (Fraction(1, 9),) * 9


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SurveyConfigError, match="file not found"):
        load_survey_config(tmp_path / "survey.yaml")


def test_quiet_hours_wrap_midnight():
    quiet = QuietHours.parse("21:00-07:00", JAKARTA)
    assert quiet.next_allowed(local(2026, 11, 24, 20, 59)) == local(2026, 11, 24, 20, 59)
    assert quiet.next_allowed(local(2026, 11, 24, 21, 0)) == local(2026, 11, 25, 7, 0)
    assert quiet.next_allowed(local(2026, 11, 25, 3, 0)) == local(2026, 11, 25, 7, 0)
    assert quiet.next_allowed(local(2026, 11, 25, 7, 0)) == local(2026, 11, 25, 7, 0)
    assert QuietHours.parse("off", JAKARTA) is None
    with pytest.raises(ValueError):
        QuietHours.parse("9pm-7am", JAKARTA)


def test_bad_quiet_hours_setting_names_the_variable(monkeypatch):
    from bot.core.errors import ConfigError

    monkeypatch.setenv("QUIET_HOURS", "21-7")
    with pytest.raises(ConfigError, match="^QUIET_HOURS:"):
        load_settings()


# --- answering -------------------------------------------------------------------------------


def _invitation(session, rt, application_id=1, completed=None, user=CITIZEN, service="ktp-el"):
    return schedule_after_completion(
        session,
        application_id=application_id,
        user_id=user,
        service_id=service,
        unit="dukcapil",
        completed_at=completed or local(2026, 11, 24, 10, 0),
        schedule=schedule_from_settings(rt.settings),
    )


def test_answers_once_resume_and_finish(db, rt, config):
    now = local(2026, 11, 24, 13, 0)
    with db.session() as s:
        invitation_id = _invitation(s, rt).id
    with db.session() as s:
        step = begin(s, config, invitation_id=invitation_id, user_id=CITIZEN, now=now)
        assert (step.kind, step.element.code, step.position, step.total) == ("question", "U1", 1, 9)
        for value, code in zip((4, 3, 2), ("U1", "U2", "U3"), strict=True):
            outcome = record_answer(
                s, config, invitation_id=invitation_id, user_id=CITIZEN, code=code, value=value,
                now=now,
            )
            assert outcome.recorded
        # The same press again: nothing changes.
        again = record_answer(
            s, config, invitation_id=invitation_id, user_id=CITIZEN, code="U3", value=4, now=now
        )
        assert not again.recorded and again.step.element.code == "U4"
    with db.session() as s:
        # Resumes where it stopped.
        step = begin(s, config, invitation_id=invitation_id, user_id=CITIZEN, now=now)
        assert (step.element.code, step.position) == ("U4", 4)
        for code in ("U4", "U5", "U6", "U7", "U8", "U9"):
            outcome = record_answer(
                s, config, invitation_id=invitation_id, user_id=CITIZEN, code=code, value=3,
                now=now,
            )
        assert outcome.step.kind == "suggestion"
        assert s.get(SurveyInvitation, invitation_id).status == ANSWERED
        # A finished survey never changes.
        late = record_answer(
            s, config, invitation_id=invitation_id, user_id=CITIZEN, code="U1", value=1, now=now
        )
        assert not late.recorded
        outcome = record_suggestion(
            s, config, invitation_id=invitation_id, user_id=CITIZEN, text=" Antrean lama ",
            now=now,
        )
        assert outcome.step.kind == "profile" and outcome.step.profile.field == "age_group"
        record_profile(
            s, config, invitation_id=invitation_id, user_id=CITIZEN, field_name="age_group",
            option="a30_39", now=now,
        )
        replay = record_profile(
            s, config, invitation_id=invitation_id, user_id=CITIZEN, field_name="age_group",
            option="u20", now=now,
        )
        assert not replay.recorded
        for field_name in ("sex", "education", "occupation"):
            outcome = record_profile(
                s, config, invitation_id=invitation_id, user_id=CITIZEN, field_name=field_name,
                option=None, now=now,
            )
        assert outcome.step.kind == "done"
    with db.session() as s:
        responses = s.exec(select(SurveyResponse)).all()
        assert len(responses) == 1
        r = responses[0]
        assert (r.u1, r.u2, r.u3, r.u4, r.u9) == (4, 3, 2, 3, 3)
        assert (r.suggestion, r.age_group, r.sex) == ("Antrean lama", "a30_39", None)
        assert r.step == "done"
        assert r.finished_at == now


def test_order_is_configurable_and_answers_keep_their_column(db, rt):
    data = raw_config()
    data["elements"][7], data["elements"][8] = data["elements"][8], data["elements"][7]
    swapped = parse_survey_config(data)
    now = local(2026, 11, 24, 13, 0)
    with db.session() as s:
        invitation_id = _invitation(s, rt).id
        for code in ("U1", "U2", "U3", "U4", "U5", "U6", "U7"):
            record_answer(s, swapped, invitation_id=invitation_id, user_id=CITIZEN, code=code,
                          value=4, now=now)
        step = begin(s, swapped, invitation_id=invitation_id, user_id=CITIZEN, now=now)
        assert (step.element.code, step.position) == ("U9", 8)
        record_answer(s, swapped, invitation_id=invitation_id, user_id=CITIZEN, code="U9",
                      value=1, now=now)
        response = s.exec(select(SurveyResponse)).one()
        assert (response.u8, response.u9) == (None, 1)


def test_someone_elses_invitation_is_not_found(db, rt, config):
    now = local(2026, 11, 24, 13, 0)
    with db.session() as s:
        invitation_id = _invitation(s, rt).id
    with db.session() as s, pytest.raises(SurveyError, match="not_found"):
        record_answer(s, config, invitation_id=invitation_id, user_id=999, code="U1", value=4,
                      now=now)
    with db.session() as s:
        assert s.exec(select(SurveyResponse)).all() == []
        with pytest.raises(SurveyError, match="bad_answer"):
            record_answer(s, config, invitation_id=invitation_id, user_id=CITIZEN, code="U1",
                          value=5, now=now)


def test_one_invitation_per_transaction(db, rt):
    with db.session() as s:
        first = _invitation(s, rt).id
        second = _invitation(s, rt, completed=local(2026, 11, 25, 10, 0)).id
    assert first == second
    with db.session() as s:
        assert len(s.exec(select(SurveyInvitation)).all()) == 1


# --- the schedule ----------------------------------------------------------------------------


def _outbox(db):
    with db.session() as s:
        return s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_invitation_after_delay_reminder_expiry(db, rt):
    with db.session() as s:
        s.add(User(telegram_id=CITIZEN, language="en"))
        invitation = _invitation(s, rt, completed=local(2026, 11, 24, 10, 0))
        assert invitation.due_at == local(2026, 11, 24, 12, 0)
        invitation_id = invitation.id
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 24, 11, 59)).invited == 0
    assert _outbox(db) == []
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 24, 12, 0, 30)).invited == 1
    [message] = _outbox(db)
    assert message.chat_id == CITIZEN
    assert message.dedupe_key == f"survey-invite:{invitation_id}"
    assert "How was our service?" in message.payload["text"]
    buttons = message.payload["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"sv:go:{invitation_id}",
                                                     f"sv:no:{invitation_id}"]
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 25, 12, 0)).reminded == 0
        assert process_due_invitations(s, rt, local(2026, 11, 25, 12, 1)).reminded == 1
        assert s.get(SurveyInvitation, invitation_id).status == REMINDED
    assert [m.dedupe_key for m in _outbox(db)][-1] == f"survey-remind:{invitation_id}"
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 30, 12, 0)).expired == 0
        assert process_due_invitations(s, rt, local(2026, 12, 1, 12, 1)).expired == 1
        assert s.get(SurveyInvitation, invitation_id).status == EXPIRED
        assert process_due_invitations(s, rt, local(2026, 12, 30, 12, 0)) == TickResult()
    assert len(_outbox(db)) == 2


def test_quiet_hours_move_the_invitation_to_the_morning(db, rt):
    with db.session() as s:
        invitation = _invitation(s, rt, completed=local(2026, 11, 24, 19, 30))
        assert invitation.due_at == local(2026, 11, 25, 7, 0)
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 24, 23, 0)).invited == 0
    # The bot was down all morning and ticks again at 22:00: the message waits until 07:00.
    with db.session() as s:
        assert process_due_invitations(s, rt, local(2026, 11, 25, 22, 0)).invited == 1
    [message] = _outbox(db)
    assert message.not_before == local(2026, 11, 26, 7, 0)


def test_a_restart_between_scheduling_and_sending_sends_once(db, rt, database_url):
    from bot.core.db import Database

    with db.session() as s:
        _invitation(s, rt)
    db.dispose()
    for _ in range(2):  # two processes (or one restarted) tick at the same moment
        other = Database(database_url)
        with other.session() as s:
            process_due_invitations(
                s, Runtime(settings=rt.settings, db=other), local(2026, 11, 24, 12, 5)
            )
        other.dispose()
    assert len(_outbox(db)) == 1


def test_declined_or_blocked_is_not_asked_again(db, rt, config):
    now = local(2026, 11, 24, 12, 5)
    with db.session() as s:
        s.add(User(telegram_id=CITIZEN, language="id"))
        s.add(User(telegram_id=77, language="id", unreachable_since=now))
        declined = _invitation(s, rt, application_id=1).id
        blocked = _invitation(s, rt, application_id=2, user=77).id
        process_due_invitations(s, rt, now)
    with db.session() as s:
        assert s.get(SurveyInvitation, blocked).status == DECLINED
        assert s.get(SurveyInvitation, declined).status == SENT
        assert decline(s, invitation_id=declined, user_id=CITIZEN, now=now)
        assert not decline(s, invitation_id=declined, user_id=CITIZEN, now=now)
        with pytest.raises(SurveyError, match="declined"):
            begin(s, config, invitation_id=declined, user_id=CITIZEN, now=now)
    with db.session() as s:
        process_due_invitations(s, rt, now + timedelta(days=2))
    assert [m.chat_id for m in _outbox(db)] == [CITIZEN]


# --- reports ---------------------------------------------------------------------------------


def _fill(db, config, rows):
    """rows: (service, unit, completed_at, answers list of 9 or None for unfinished)."""
    with db.session() as s:
        for number, (service, unit, completed, answers) in enumerate(rows, start=1):
            invitation = SurveyInvitation(
                transaction_key=f"t{number}", user_id=number, service_id=service, unit=unit,
                status=ANSWERED, due_at=completed,
            )
            s.add(invitation)
            s.flush()
            values = {e.column: a for e, a in zip(config.elements, answers, strict=True)}
            s.add(
                SurveyResponse(
                    invitation_id=invitation.id, service_id=service, unit=unit,
                    started_at=completed,
                    completed_at=completed if None not in answers else None,
                    **values,
                )
            )


def test_sql_report_matches_the_formula(db, config):
    rng = random.Random(6)
    services = [("ktp-el", "dukcapil"), ("akta-lahir", "dukcapil"), ("paspor", "imigrasi")]
    rows = []
    for _ in range(120):
        service, unit = rng.choice(services)
        day = local(2026, 11, rng.randint(1, 30), rng.randint(0, 23), 0)
        rows.append((service, unit, day, [rng.choice([2, 3, 3, 4]) for _ in range(9)]))
    # Outside the period (local midnight boundaries), and one unfinished.
    rows.append(("ktp-el", "dukcapil", local(2026, 12, 1, 0, 0), [1] * 9))
    rows.append(("ktp-el", "dukcapil", local(2026, 10, 31, 23, 59), [1] * 9))
    rows.append(("ktp-el", "dukcapil", local(2026, 11, 5, 9, 0), [1] * 8 + [None]))
    _fill(db, config, rows)
    period = parse_period("2026-11", date(2026, 11, 24))
    inside = rows[:120]

    def expected(selected):
        nrrs = [ikm.element_nrr([r[3][i] for r in selected]) for i in range(9)]
        return ikm.score(nrrs)

    with db.session() as s:
        report = build_report(s, config, period, JAKARTA, by="service")
        assert report.overall.respondents == 120
        assert report.overall.score == expected(inside)
        for figures in report.groups:
            selected = [r for r in inside if r[0] == figures.key]
            assert figures.respondents == len(selected)
            assert figures.score == expected(selected)
            assert figures.nrr["U1"] == ikm.element_nrr([r[3][0] for r in selected])
        by_unit = build_report(s, config, period, JAKARTA, by="unit")
        assert [g.key for g in by_unit.groups] == ["dukcapil", "imigrasi"]
        assert by_unit.groups[1].score == expected([r for r in inside if r[1] == "imigrasi"])
        one = build_report(s, config, period, JAKARTA, by="service", only="paspor")
        assert one.overall.score == expected([r for r in inside if r[0] == "paspor"])
        trend = index_trend(s, config, period, JAKARTA, count=3)
        assert [p.label for p, _score, _n in trend] == ["2026-09", "2026-10", "2026-11"]
        assert trend[1][2] == 1 and trend[1][1].index == 25
        csv_text = "".join(responses_csv(s, config, period, JAKARTA, locale="en",
                                         minimum_respondents=5))
        summary = summary_csv(report, config, locale="en")
    lines = csv_text.splitlines()
    assert lines[0].startswith("date,service,unit,U1,U2")
    assert len(lines) == 121
    assert str(CITIZEN) not in csv_text
    assert summary.splitlines()[-1].split(",")[2] == "ALL"


def test_suggestions_in_the_export_hide_long_numbers():
    from bot.surveys.exports import redact

    assert redact("NIK saya 3201 1234 5678 9012, tolong") == "NIK saya […], tolong"
    assert redact("loket 3 lambat") == "loket 3 lambat"


@pytest.mark.parametrize(
    ("text", "label"),
    [("", "2026-11"), ("quarter", "2026-Q4"), ("2026-S1", "2026-S1"), ("2025", "2025"),
     ("2026-q2", "2026-Q2"), ("2026-01-01..2026-01-31", "2026-01-01..2026-01-31")],
)
def test_periods(text, label):
    assert parse_period(text, date(2026, 11, 24)).label == label


def test_bad_period_says_what_to_write():
    with pytest.raises(ValueError, match="2026-Q3"):
        parse_period("last week", date(2026, 11, 24))
    assert parse_period("2026-01", date(2026, 11, 24)).previous().label == "2025-12"


def test_the_older_fourteen_element_rule_reports_with_its_bands(db):
    old = load_survey_config(PROJECT_ROOT / "knowledge" / "survey-25-2004.yaml")
    assert (old.rule, len(old.elements), old.weights[0]) == ("25/2004", 14, Fraction(1, 14))
    # 3 respondents: index 25 * (2+3+3)/3 = 66.67: B under 25/2004, C under 14/2017.
    _fill(db, old, [("ktp-el", "dukcapil", local(2026, 11, 3, 10, 0), [v] * 14)
                    for v in (2, 3, 3)])
    with db.session() as s:
        report = build_report(s, old, parse_period("2026-11", date(2026, 11, 24)), JAKARTA)
    assert report.rule.code == "25/2004"
    assert (report.overall.score.index, report.overall.score.grade) == (Decimal("66.67"), "B")
    assert ikm.RULE_2017.grade(Decimal("66.67")) == "C"


def test_chart_is_a_png_with_bars_and_trend(db, config):
    from bot.core.i18n import Translator
    from bot.surveys.chart import render_chart
    from bot.surveys.report import render_report

    _fill(db, config, [("ktp-el", "dukcapil", local(2026, 11, 3, 10, 0), [3] * 9)])
    period = parse_period("2026-11", date(2026, 11, 24))
    with db.session() as s:
        report = build_report(s, config, period, JAKARTA)
        trend = index_trend(s, config, period, JAKARTA)
    png = render_chart(report, trend, config, title="IKM", trend_title="trend", locale="id")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    text = render_report(Translator("id"), report, config, lambda key: key or "Semua layanan")
    assert "Indeks 75,00, mutu C (kurang baik)" in text
    assert "U4 Biaya/tarif: 3,00" in text


def test_two_processes_at_once_take_different_invitations(db, rt):
    """PostgreSQL: while one process holds an invitation (mid-transaction), another skips it."""
    if not db.is_postgres:
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has a single writer")
    with db.session() as s:
        first = _invitation(s, rt, application_id=1).id
        second = _invitation(s, rt, application_id=2).id
    now = local(2026, 11, 24, 12, 5)
    with db.session() as a:
        # Process A claims only the first one, and has not committed yet.
        a.exec(
            select(SurveyInvitation).where(SurveyInvitation.id == first).with_for_update()
        ).one()
        with db.session() as b:
            assert process_due_invitations(b, rt, now).invited == 1
        assert process_due_invitations(a, rt, now).invited == 1
    with db.session() as s:
        keys = sorted(m.dedupe_key for m in s.exec(select(OutboxMessage)).all())
    assert keys == [f"survey-invite:{first}", f"survey-invite:{second}"]


def test_an_empty_period_still_reports_and_draws(sqlite_db, config):
    from bot.core.i18n import Translator
    from bot.surveys.chart import render_chart
    from bot.surveys.report import render_report

    period = parse_period("2026-11", date(2026, 11, 24))
    with sqlite_db.session() as s:
        report = build_report(s, config, period, JAKARTA)
        trend = index_trend(s, config, period, JAKARTA)
        lines = list(responses_csv(s, config, period, JAKARTA, locale="en",
                                   minimum_respondents=0))
    assert report.overall.score is None and report.groups == ()
    assert render_chart(report, trend, config, title="IKM", trend_title="t",
                        locale="en").startswith(b"\x89PNG")
    text = render_report(Translator("en"), report, config, lambda key: key or "All services")
    assert "No complete answers in this period." in text
    assert len(lines) == 1
