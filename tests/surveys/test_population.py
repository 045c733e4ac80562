"""The report's sample check counts the period's completed applications (the status feature)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.applications.models import Application
from bot.applications.statuses import COMPLETED
from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.i18n import Translator
from bot.surveys import ikm
from bot.surveys.models import ANSWERED, SurveyInvitation, SurveyResponse
from bot.surveys.questionnaire import load_survey_config
from bot.surveys.report import build_report, parse_period, render_report

JAKARTA = load_settings().tz


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA).astimezone(UTC)


def test_minimum_sample_against_completed_applications(db):
    config = load_survey_config(PROJECT_ROOT / "knowledge" / "survey.yaml")
    closed = local(2026, 11, 10, 10, 0)
    with db.session() as s:
        for number in range(120):
            service = "paspor" if number < 100 else "ktp-el"
            s.add(
                Application(
                    tracking_number=f"T{number:05d}", service_id=service,
                    applicant_name="Warga", verification_code="000000",
                    status=COMPLETED if number % 10 else "in_process",
                    received_at=closed, due_at=closed,
                    closed_at=closed if number % 10 else None,
                )
            )
        # Completed outside the period: not counted.
        s.add(Application(tracking_number="T99999", service_id="paspor", applicant_name="Warga",
                          verification_code="000000", status=COMPLETED, received_at=closed,
                          due_at=closed, closed_at=local(2026, 12, 1, 0, 0)))
        for number in range(12):
            invitation = SurveyInvitation(transaction_key=f"t{number}", user_id=number,
                                          service_id="paspor", unit="imigrasi", status=ANSWERED,
                                          due_at=closed)
            s.add(invitation)
            s.flush()
            s.add(SurveyResponse(invitation_id=invitation.id, service_id="paspor",
                                 unit="imigrasi", started_at=closed, completed_at=closed,
                                 **{f"u{n}": 3 for n in range(1, 10)}))
    period = parse_period("2026-11", date(2026, 11, 24))
    units = {"paspor": "imigrasi", "ktp-el": "dukcapil"}
    with db.session() as s:
        report = build_report(s, config, period, JAKARTA, by="service")
        by_unit = build_report(s, config, period, JAKARTA, by="unit", unit_of=units.get)
    assert report.population_from == "applications"
    # 90 paspor and 18 ktp-el completed in November (every tenth is still in process).
    assert report.overall.population == 108
    assert report.overall.minimum_sample == ikm.minimum_sample(108) == 86
    assert not report.overall.sample_reached
    [paspor] = report.groups
    assert (paspor.key, paspor.population, paspor.respondents) == ("paspor", 90, 12)
    assert [(g.key, g.population) for g in by_unit.groups] == [("imigrasi", 90)]
    assert by_unit.overall.population == 108
    # One unit's figures, however grouped: its responses and its transactions only.
    with db.session() as s:
        for by in ("overall", "unit", "service"):
            own = build_report(s, config, period, JAKARTA, by=by, unit="imigrasi",
                               unit_of=units.get)
            assert (own.overall.respondents, own.overall.population) == (12, 90), by
            other = build_report(s, config, period, JAKARTA, by=by, unit="dukcapil",
                                 unit_of=units.get)
            assert (other.overall.respondents, other.overall.population) == (0, 18), by
            assert other.groups == ()
    text = render_report(Translator("en"), report, config, lambda key: key or "All services")
    assert "12 respondents; 108 completed transactions need at least 86." in text
    assert "The sample is too small: 74 more respondents are needed" in text
