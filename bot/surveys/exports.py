"""The satisfaction survey's exports (the responses and the summary, as CSV or XLSX), in the
office's language, and the rule that protects the respondents of a small report.

Headers and profile codes are written in the office's language (DEFAULT_LOCALE): an Indonesian
office files "tanggal, layanan, ..., jenis_kelamin: Perempuan", an English one "date, service,
..., sex: Female". Element columns keep their codes (U1..U16), as the regulation numbers them.

A report over fewer respondents than IKM_MIN_RESPONDENTS (default 5) gives no per-person rows:
with three answers, a line of ages, sexes and a suggestion points at people the officers served.
The index and its figures are still reported; what is held back, and why, is said.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from bot.core.exports import Column, csv_lines, to_csv
from bot.core.i18n import N_, Translator
from bot.surveys.models import SurveyResponse
from bot.surveys.questionnaire import PROFILE_FIELDS, SurveyConfig
from bot.surveys.report import Period, Report

# Column names as msgids: the English catalog keeps them as they are.
HEADERS = {
    "date": N_("date"),
    "service": N_("service"),
    "unit": N_("unit"),
    "overall": N_("overall"),
    "age_group": N_("age_group"),
    "sex": N_("sex"),
    "education": N_("education"),
    "occupation": N_("occupation"),
    "suggestion": N_("suggestion"),
    "period": N_("period"),
    "rule": N_("rule"),
    "respondents": N_("respondents"),
    "population": N_("population"),
    "minimum_sample": N_("minimum_sample"),
    "sample_reached": N_("sample_reached"),
    "index": N_("index"),
    "grade": N_("grade"),
}
SHEETS = {"responses": N_("responses"), "summary": N_("summary")}


class TooFewRespondents(Exception):
    """The period has fewer respondents than the minimum: no per-person export."""

    def __init__(self, count: int, minimum: int) -> None:
        self.count = count
        self.minimum = minimum
        super().__init__(f"{count} respondent(s), fewer than the minimum of {minimum}")


def withheld_text(tr: Translator, count: int, minimum: int) -> str:
    """Why a report shows no individual answers (plain text, no HTML)."""
    return tr.ngettext(
        "Only {count} respondent, fewer than {minimum}: the individual answers, the "
        "respondents' profiles and their suggestions are not shown, so that nobody can be "
        "recognised by them.",
        "Only {count} respondents, fewer than {minimum}: the individual answers, the "
        "respondents' profiles and their suggestions are not shown, so that nobody can be "
        "recognised by them.",
        count,
    ).format(count=count, minimum=minimum)


def sheet_name(kind: str, locale: str) -> str:
    return Translator(locale).gettext(SHEETS[kind])


def _header(tr: Translator, name: str) -> str:
    return tr.gettext(HEADERS[name])


# A run of 8+ digits in free text is probably a NIK, a phone or a tracking number: personal data.
_LONG_NUMBER = re.compile(r"\d[\d .-]{6,}\d")


def redact(text: str | None) -> str:
    if not text:
        return ""
    return _LONG_NUMBER.sub("[…]", text)


def count_responses(
    session: Session, period: Period, tz: ZoneInfo, *, only: str | None = None,
    unit: str | None = None,
) -> int:
    """Complete responses in the period (of one service, or one unit)."""
    start, end = period.bounds(tz)
    query = select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.completed_at >= start, SurveyResponse.completed_at < end
    )
    if only is not None:
        query = query.where(SurveyResponse.service_id == only)
    if unit is not None:
        query = query.where(SurveyResponse.unit == unit)
    return int(session.execute(query).scalar_one())


def responses_table(
    session: Session,
    config: SurveyConfig,
    period: Period,
    tz: ZoneInfo,
    *,
    locale: str,
    minimum_respondents: int,
    only: str | None = None,
    unit: str | None = None,
) -> tuple[list[Column], Iterator[list[Any]]]:
    """The period's complete responses, with no personal data: no user, no invitation or
    application, the date only, long numbers in suggestions masked, profile answers as their
    labels in ``locale``. Rows are read as they are written (a year of a busy office is large).

    Raises TooFewRespondents below ``minimum_respondents`` (checked before anything streams).
    """
    count = count_responses(session, period, tz, only=only, unit=unit)
    if count < minimum_respondents:
        raise TooFewRespondents(count, minimum_respondents)
    tr = Translator(locale)
    start, end = period.bounds(tz)
    elements = [getattr(SurveyResponse, e.column) for e in config.elements]
    query = (
        select(
            SurveyResponse.completed_at,
            SurveyResponse.service_id,
            SurveyResponse.unit,
            *elements,
            *[getattr(SurveyResponse, name) for name in PROFILE_FIELDS],
            SurveyResponse.suggestion,
        )
        .where(SurveyResponse.completed_at >= start, SurveyResponse.completed_at < end)
        .order_by(SurveyResponse.completed_at)
    )
    if only is not None:
        query = query.where(SurveyResponse.service_id == only)
    if unit is not None:
        query = query.where(SurveyResponse.unit == unit)
    columns = [
        Column(_header(tr, "date"), "date"), Column(_header(tr, "service")),
        Column(_header(tr, "unit")),
        *[Column(e.code, "int") for e in config.elements],
        *[Column(_header(tr, name)) for name in PROFILE_FIELDS],
        Column(_header(tr, "suggestion")),
    ]
    labels = {
        name: {o.code: o.label.get(locale) for o in question.options}
        for name in PROFILE_FIELDS
        if (question := config.profile_question(name)) is not None
    }
    first_profile = 3 + len(elements)

    def rows() -> Iterator[list[Any]]:
        for row in session.execute(query.execution_options(yield_per=2000)):
            completed = row[0].astimezone(tz).date()
            profile = [
                labels.get(name, {}).get(code, code) if code else code
                for name, code in zip(PROFILE_FIELDS, row[first_profile:-1], strict=True)
            ]
            yield [completed, row[1], row[2] or "", *row[3:first_profile], *profile,
                   redact(row[-1])]

    return columns, rows()


def responses_csv(
    session: Session,
    config: SurveyConfig,
    period: Period,
    tz: ZoneInfo,
    *,
    locale: str,
    minimum_respondents: int,
    only: str | None = None,
    unit: str | None = None,
) -> Iterator[str]:
    """responses_table as CSV lines (TooFewRespondents is raised at once, not mid-stream)."""
    return csv_lines(*responses_table(
        session, config, period, tz, locale=locale, minimum_respondents=minimum_respondents,
        only=only, unit=unit,
    ))


def summary_table(
    report: Report, config: SurveyConfig, *, locale: str
) -> tuple[list[Column], list[list[Any]]]:
    """One line per group and overall: respondents, sample, NRR per element, index, grade;
    headers and words in ``locale``."""
    tr = Translator(locale)
    _ = tr.gettext
    columns = [
        Column(_header(tr, "period")), Column(_header(tr, "rule")),
        Column(_header(tr, report.by)), Column(_header(tr, "respondents"), "int"),
        Column(_header(tr, "population"), "int"), Column(_header(tr, "minimum_sample"), "int"),
        Column(_header(tr, "sample_reached")),
        *[Column(e.code, "decimal4") for e in config.elements],
        Column(_header(tr, "index"), "decimal2"), Column(_header(tr, "grade")),
    ]
    rows = []
    for figures in (*report.groups, report.overall):
        score = figures.score
        rows.append(
            [
                report.period.label,
                report.rule.code,
                figures.key if figures is not report.overall else _("ALL"),
                figures.respondents,
                figures.population,
                figures.minimum_sample,
                _("yes") if figures.sample_reached else _("no"),
                *[float(v) if v is not None else None for v in figures.nrr.values()],
                float(score.index) if score else None,
                score.grade if score else "",
            ]
        )
    return columns, rows


def summary_csv(report: Report, config: SurveyConfig, *, locale: str) -> str:
    return to_csv(*summary_table(report, config, locale=locale))
