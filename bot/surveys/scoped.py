"""The satisfaction index as one unit sees it (a unit supervisor in the chat, a unit's API
token), or the whole office: the figures, the trend and the responses of that unit only."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.core.runtime import Runtime
from bot.surveys import ikm
from bot.surveys.questionnaire import SurveyConfig, service_unit
from bot.surveys.report import Period, Report, build_report, index_trend


def scoped_report(
    session: Session,
    rt: Runtime,
    config: SurveyConfig,
    period: Period,
    *,
    by: str,
    unit: str | None,
    count_population: bool = True,
) -> Report:
    """``build_report`` for the office (``unit`` None), or for one unit: its figures as
    ``overall`` (keyed by the unit), its services (``by`` service) or itself (``by`` unit) as
    the groups, nothing of another unit."""

    def unit_of(service_id: str) -> str | None:
        return service_unit(rt, service_id)

    if unit is None:
        return build_report(session, config, period, rt.tz, by=by, unit_of=unit_of,
                            count_population=count_population)
    own = build_report(session, config, period, rt.tz, by="unit", only=unit, unit_of=unit_of,
                       count_population=count_population)
    groups: tuple[Any, ...] = ()
    if by == "service":
        per_service = build_report(session, config, period, rt.tz, by="service",
                                   unit_of=unit_of, count_population=count_population)
        groups = tuple(g for g in per_service.groups if unit_of(g.key or "") == unit)
    elif by == "unit":
        groups = own.groups
    return Report(own.period, own.rule, by, own.elements, own.overall, groups,
                  own.population_from)


def scoped_trend(
    session: Session,
    rt: Runtime,
    config: SurveyConfig,
    period: Period,
    *,
    unit: str | None,
    count: int = 6,
) -> list[tuple[Period, ikm.Score | None, int]]:
    """The index of the ``count`` periods ending with ``period``, of the unit or the office."""
    if unit is None:
        return index_trend(session, config, period, rt.tz, count=count)
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    trend = []
    for p in reversed(periods):
        overall = scoped_report(session, rt, config, p, by="overall", unit=unit,
                                count_population=False).overall
        trend.append((p, overall.score, overall.respondents))
    return trend
