"""The satisfaction index as one unit sees it (a unit supervisor, a unit's API token, the
console's unit view), or the whole office. The figures come from ``build_report(unit=...)``, the
one way to a unit's figures; here the unit's own row is named by the unit."""

from __future__ import annotations

import dataclasses

from sqlmodel import Session

from bot.core.runtime import Runtime
from bot.surveys.questionnaire import SurveyConfig, service_unit
from bot.surveys.report import Period, Report, build_report


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
    report = build_report(session, config, period, rt.tz, by=by, unit=unit,
                          unit_of=lambda service_id: service_unit(rt, service_id),
                          count_population=count_population)
    if unit is None:
        return report
    return dataclasses.replace(report, overall=dataclasses.replace(report.overall, key=unit))

