"""IKM reports computed by the database per service, unit and period; sample check (the
exports are in bot/surveys/exports.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select
from sqlmodel import Session

from bot.core.i18n import N_, Translator
from bot.core.text import escape
from bot.surveys import ikm
from bot.surveys.models import SurveyResponse
from bot.surveys.questionnaire import SurveyConfig

PERIOD_KINDS = ("month", "quarter", "semester", "year")
GROUPINGS = ("service", "unit", "overall")


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period of office-calendar days, ``end`` excluded."""

    kind: str  # month | quarter | semester | year | dates
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "semester":
            return f"{self.start.year}-S{1 if self.start.month <= 6 else 2}"
        if self.kind == "year":
            return str(self.start.year)
        last = date.fromordinal(self.end.toordinal() - 1)
        return f"{self.start.isoformat()}..{last.isoformat()}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC instants: midnight office time at both ends."""
        return (
            datetime.combine(self.start, time(), tzinfo=tz).astimezone(UTC),
            datetime.combine(self.end, time(), tzinfo=tz).astimezone(UTC),
        )

    def previous(self) -> Period:
        if self.kind == "dates":
            length = self.end - self.start
            return Period("dates", self.start - length, self.start)
        return period_containing(self.kind, date.fromordinal(self.start.toordinal() - 1))


def _months(kind: str) -> int:
    return {"month": 1, "quarter": 3, "semester": 6, "year": 12}[kind]


def period_containing(kind: str, day: date) -> Period:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    size = _months(kind)
    first_month = (day.month - 1) // size * size + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + size
    end = date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return Period(kind, start, end)


def parse_period(text: str, today: date) -> Period:
    """``month`` (this one), ``quarter``, ``semester``, ``year``, ``2026-11``, ``2026-Q3``,
    ``2026-S1``, ``2026``, or ``2026-01-01..2026-03-31`` (both days included)."""
    period = _parse_period(text, today)
    # Year 1 in the office's zone is before year 1 in UTC: no datetime holds it (and no
    # survey is that old); the upper end leaves room for the day after the period.
    if period.start.year < 1900 or period.end.year > 9999:
        raise ValueError("the period must lie between the years 1900 and 9998")
    return period


def _parse_period(text: str, today: date) -> Period:
    text = text.strip().lower()
    if not text:
        return period_containing("month", today)
    if text in PERIOD_KINDS:
        return period_containing(text, today)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        if 1 <= int(m[2]) <= 12:
            return period_containing("month", date(int(m[1]), int(m[2]), 1))
    elif m := re.fullmatch(r"(\d{4})-q([1-4])", text):
        return period_containing("quarter", date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
    elif m := re.fullmatch(r"(\d{4})-s([12])", text):
        return period_containing("semester", date(int(m[1]), (int(m[2]) - 1) * 6 + 1, 1))
    elif m := re.fullmatch(r"\d{4}", text):
        return period_containing("year", date(int(text), 1, 1))
    elif m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", text):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            first = last = None
        if first is not None and last is not None and first <= last:
            return Period("dates", first, date.fromordinal(last.toordinal() + 1))
    raise ValueError(
        "use month, quarter, semester, year, 2026-11, 2026-Q3, 2026-S1, 2026 "
        "or 2026-01-01..2026-03-31"
    )


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One row of a report: a service, a unit, or everything."""

    key: str | None
    respondents: int
    totals: dict[str, tuple[int, int]]  # element code -> (sum of answers, how many answered)
    population: int | None
    weights: tuple[Fraction, ...]
    rule: str

    @property
    def nrr(self) -> dict[str, Fraction | None]:
        return {code: ikm.nrr(total, count) for code, (total, count) in self.totals.items()}

    @property
    def score(self) -> ikm.Score | None:
        """None without respondents, or while an element has no answer at all."""
        values = list(self.nrr.values())
        if not self.respondents or any(v is None for v in values):
            return None
        return ikm.score(values, self.weights, self.rule)  # type: ignore[arg-type]

    @property
    def minimum_sample(self) -> int:
        # Every respondent used the service, so the population is at least the respondents
        # (on-demand surveys come from transactions the bot never saw).
        return ikm.minimum_sample(max(self.population or 0, self.respondents))

    @property
    def sample_reached(self) -> bool:
        return self.respondents >= self.minimum_sample


@dataclass(frozen=True)
class Report:
    period: Period
    rule: ikm.Rule
    by: str
    elements: tuple[str, ...]
    overall: Figures
    groups: tuple[Figures, ...]
    population_from: str  # "applications" (completed in the period) or "responses"


def _group_column(by: str) -> Any:
    if by == "service":
        return SurveyResponse.service_id
    if by == "unit":
        return SurveyResponse.unit
    if by == "overall":
        return literal_column("NULL")
    raise ValueError(f"group by {by!r}: use {', '.join(GROUPINGS)}")


def build_report(
    session: Session,
    config: SurveyConfig,
    period: Period,
    tz: ZoneInfo,
    *,
    by: str = "service",
    only: str | None = None,
    unit_of: Callable[[str], str | None] | None = None,
    count_population: bool = True,
    unit: str | None = None,
) -> Report:
    """Every figure from one aggregate query: sums and counts per element and group.

    Responses count once all their elements are answered (``completed_at``), in the period of
    that moment. ``only`` keeps one group (a service id or a unit). ``unit_of`` maps a service
    to its unit, to count each unit's completed transactions. ``unit`` keeps the responses and
    transactions of one unit, whatever ``by`` (its services as the groups with ``by="service"``,
    itself with ``by="unit"``; needs ``unit_of``): the one way to a unit's figures, for the
    chat's /ikm, the console and the API (bot/surveys/scoped.py). A response counts for the
    unit it was given to; a transaction for its service's unit.
    """
    start, end = period.bounds(tz)
    group = _group_column(by)
    columns = [group.label("key"), func.count().label("respondents")]
    for element in config.elements:
        column = getattr(SurveyResponse, element.column)
        columns += [func.sum(column), func.count(column)]
    query = select(*columns).where(
        SurveyResponse.completed_at >= start, SurveyResponse.completed_at < end
    )
    if only is not None and by != "overall":
        query = query.where(group == only)
    if unit is not None:
        query = query.where(SurveyResponse.unit == unit)
    if by != "overall":
        query = query.group_by(group).order_by(group)
    rows = session.execute(query).all()
    codes = tuple(e.code for e in config.elements)
    population = (_population(session, start, end, by, unit_of, unit) if count_population
                  else None)

    def figures(key: str | None, respondents: int, values: list[int]) -> Figures:
        totals = {
            code: (int(values[2 * i] or 0), int(values[2 * i + 1] or 0))
            for i, code in enumerate(codes)
        }
        pop = population.get(key, 0) if population is not None else respondents
        return Figures(key, respondents, totals, pop, config.weights, config.rule)

    groups = tuple(
        figures(row[0], int(row[1]), list(row[2:])) for row in rows if int(row[1]) > 0
    )
    # Sums and counts add up, so the overall row needs no second pass over the responses.
    total_values = [sum(int(row[2 + i] or 0) for row in rows) for i in range(2 * len(codes))]
    respondents = sum(g.respondents for g in groups)
    overall_population = (
        sum(population.values()) if population is not None and (only is None or by == "overall")
        else (population.get(only, 0) if population is not None else respondents)
    )
    overall = Figures(
        only, respondents,
        {code: (total_values[2 * i], total_values[2 * i + 1]) for i, code in enumerate(codes)},
        overall_population, config.weights, config.rule,
    )
    if by == "overall":
        groups = ()
    return Report(
        period=period,
        rule=ikm.rule(config.rule),
        by=by,
        elements=codes,
        overall=overall,
        groups=groups,
        population_from="applications" if population is not None else "responses",
    )


def _population(
    session: Session,
    start: datetime,
    end: datetime,
    by: str,
    unit_of: Callable[[str], str | None] | None,
    unit: str | None = None,
) -> dict[str | None, int] | None:
    """Completed transactions in the period per group, from the applications feature; None
    when it is not installed (the report then counts its respondents as the population).
    ``unit``: only the transactions of that unit's services (by the services' units now)."""
    try:
        from bot.applications.models import Application
        from bot.applications.statuses import COMPLETED
    except ImportError:
        return None
    rows = session.execute(
        select(Application.service_id, func.count())
        .where(
            Application.status == COMPLETED,
            Application.closed_at >= start,
            Application.closed_at < end,
        )
        .group_by(Application.service_id)
    ).all()
    counts: dict[str | None, int] = {}
    for service_id, count in rows:
        if unit is not None and (unit_of is None or unit_of(service_id) != unit):
            continue
        if by == "service":
            key: str | None = service_id
        elif by == "unit":
            key = unit_of(service_id) if unit_of is not None else None
        else:
            key = None
        counts[key] = counts.get(key, 0) + int(count)
    return counts


def index_trend(
    session: Session,
    config: SurveyConfig,
    period: Period,
    tz: ZoneInfo,
    *,
    count: int = 6,
    only: str | None = None,
    unit: str | None = None,
) -> list[tuple[Period, ikm.Score | None, int]]:
    """The index of the ``count`` periods ending with ``period``, oldest first (of one
    service, ``only``, or of one unit)."""
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    trend = []
    for p in reversed(periods):
        figures = build_report(
            session, config, p, tz, by="service" if only else "overall", only=only, unit=unit,
            count_population=False,  # a trend shows the index only
        )
        trend.append((p, figures.overall.score, figures.overall.respondents))
    return trend


# --- text ------------------------------------------------------------------------------------

GRADE_MEANINGS = {
    "A": N_("A (very good)"),
    "B": N_("B (good)"),
    "C": N_("C (less than good)"),
    "D": N_("D (not good)"),
}


def format_index(tr: Translator, score: ikm.Score) -> str:
    value = f"{score.index:.2f}"
    return value.replace(".", ",") if tr.locale == "id" else value


def format_nrr(tr: Translator, value: Fraction | None) -> str:
    if value is None:
        return "-"
    text = f"{float(value):.2f}"
    return text.replace(".", ",") if tr.locale == "id" else text


def render_report(
    tr: Translator,
    report: Report,
    config: SurveyConfig,
    name_of: Callable[[str | None], str],
    *,
    withheld: str | None = None,
) -> str:
    """The figures as a Telegram message (HTML); ``withheld`` says what is not shown and why
    (bot/surveys/exports.py, withheld_text)."""
    _ = tr.gettext
    overall = report.overall
    lines = [
        _("<b>Satisfaction index (IKM), {period}</b>").format(period=report.period.label),
        _("Rule: {rule}, {count} elements").format(
            rule=report.rule.title, count=len(report.elements)
        ),
        "",
    ]
    lines += _figures_lines(tr, overall, name_of(overall.key), report)
    if withheld:
        lines.append("🔒 " + escape(withheld))
    if overall.respondents:
        lines.append("")
        lines.append(_("<b>Per element (NRR, 1-4)</b>"))
        for element in config.elements:
            lines.append(
                f"{element.code} {escape(element.name.get(tr.locale))}: "
                f"{format_nrr(tr, overall.nrr[element.code])}"
            )
    for figures in report.groups:
        lines.append("")
        lines += _figures_lines(tr, figures, name_of(figures.key), report)
    return "\n".join(lines)


def _figures_lines(tr: Translator, figures: Figures, name: str, report: Report) -> list[str]:
    _ = tr.gettext
    lines = [f"<b>{escape(name)}</b>"]
    score = figures.score
    if score is None:
        lines.append(_("No complete answers in this period."))
    else:
        lines.append(
            _("Index {index}, grade {grade}").format(
                index=format_index(tr, score), grade=_(GRADE_MEANINGS[score.grade])
            )
        )
    if report.population_from == "applications":
        lines.append(
            tr.ngettext(
                "{respondents} respondent; {population} completed transaction needs at least "
                "{minimum}.",
                "{respondents} respondents; {population} completed transactions need at least "
                "{minimum}.",
                figures.population or 0,
            ).format(
                respondents=figures.respondents,
                population=figures.population or 0,
                minimum=figures.minimum_sample,
            )
        )
        if not figures.sample_reached:
            lines.append(
                _("⚠️ The sample is too small: {missing} more respondents are needed before "
                  "this index can be published as representative.").format(
                    missing=figures.minimum_sample - figures.respondents
                )
            )
    else:
        lines.append(
            tr.ngettext("{respondents} respondent.", "{respondents} respondents.",
                        figures.respondents).format(respondents=figures.respondents)
        )
    return lines


def report_as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON for the HTTP API: NRR to 4 decimals, the index as the rounded text."""

    def figures(f: Figures) -> dict[str, Any]:
        score = f.score
        return {
            "key": f.key,
            "respondents": f.respondents,
            "population": f.population,
            "minimum_sample": f.minimum_sample,
            "sample_reached": f.sample_reached,
            "nrr": {c: round(float(v), 4) if v is not None else None for c, v in f.nrr.items()},
            "index": f"{score.index:.2f}" if score else None,
            "grade": score.grade if score else None,
        }

    return {
        "period": report.period.label,
        "from": report.period.start.isoformat(),
        "until": (report.period.end - timedelta(days=1)).isoformat(),
        "rule": report.rule.code,
        "by": report.by,
        "population_from": report.population_from,
        "overall": figures(report.overall),
        "groups": [figures(g) for g in report.groups],
    }
