"""The satisfaction index (IKM) in the console and on the public /ikm page, with the
follow-up actions ("Anda berkata, kami lakukan").

The figures are bot.ikm_report's (the same as /ikm in the chat and the API); the charts are
bot.ikm_chart's. The public page shows no personal data: no suggestions, no respondents'
profiles, and no index for a group below the regulation's minimum sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.console import followups
from bot.console.ikm_files import report_pdf, report_xlsx
from bot.console.models import FollowUpAction
from bot.console.pages import Page, public_page, staff_page
from bot.core.exports import XLSX_MIME
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.surveys import ikm
from bot.surveys.chart import render_chart
from bot.surveys.exports import count_responses, responses_csv, summary_csv, withheld_text
from bot.surveys.questionnaire import SurveyConfig, service_name, service_unit, survey_config
from bot.surveys.report import (
    GRADE_MEANINGS,
    Figures,
    Period,
    Report,
    build_report,
    format_index,
    format_nrr,
    index_trend,
    parse_period,
)
from bot.surveys.scoped import scoped_report

TREND_PERIODS = 6
CHART_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class Scope:
    """Whose figures: one service, one unit, or the office (None, None)."""

    unit: str | None = None
    service: str | None = None


def scope_for(rt: Runtime, page: Page) -> Scope | None:
    """The figures this supervisor may see, from ?service=; None when refused. Supervisors
    with a unit see that unit's reports; admins and supervisors without a unit see all."""
    principal = page.principal
    unit = None if principal is None or principal.is_admin else principal.unit
    asked = page.query.get("unit") or None
    if asked is not None:
        if unit is not None and asked != unit:
            return None
        if asked not in units(rt):
            return None
        unit = asked
    service = page.query.get("service") or None
    if service is not None:
        if service not in rt.knowledge.services:
            return None
        if unit is not None and service_unit(rt, service) != unit:
            return None
    return Scope(unit=unit, service=service)


def units(rt: Runtime) -> list[str]:
    """The reporting units of the knowledge base's services."""
    return sorted({u for sid in rt.knowledge.services if (u := service_unit(rt, sid))})


def _report(session: Session, rt: Runtime, config: SurveyConfig, period: Period,
            scope: Scope, *, count_population: bool = True) -> Report:
    """The scope's figures as ``overall``, and its services as ``groups``."""
    if scope.service is not None:
        return build_report(session, config, period, rt.tz, by="service", only=scope.service,
                            unit_of=lambda sid: service_unit(rt, sid),
                            count_population=count_population)
    return scoped_report(session, rt, config, period, by="service", unit=scope.unit,
                         count_population=count_population)


def _trend(session: Session, rt: Runtime, config: SurveyConfig, period: Period,
           scope: Scope) -> list[tuple[Period, ikm.Score | None, int]]:
    return index_trend(session, config, period, rt.tz, count=TREND_PERIODS, only=scope.service,
                       unit=scope.unit if scope.service is None else None)


def _period(rt: Runtime, page: Page, default: str) -> Period | None:
    today = utcnow().astimezone(rt.tz).date()
    try:
        return parse_period(page.query.get("period") or default, today)
    except ValueError:
        return None


def _name(rt: Runtime, scope: Scope, key: str | None, locale: str, tr: Translator) -> str:
    if key is None:
        if scope.service:
            return service_name(rt, scope.service, locale)
        return scope.unit or tr.gettext("The whole office")
    return service_name(rt, key, locale)


def figures_view(rt: Runtime, figures: Figures, name: str, tr: Translator) -> dict[str, Any]:
    score = figures.score
    shown = score is not None and figures.sample_reached
    return {
        "name": name,
        "key": figures.key,
        "respondents": figures.respondents,
        "population": figures.population,
        "minimum": figures.minimum_sample,
        "reached": figures.sample_reached,
        "index": format_index(tr, score) if score else None,
        "grade": score.grade if score else None,
        "meaning": tr.gettext(GRADE_MEANINGS[score.grade]) if score else None,
        "published": shown,
    }


def element_bars(config: SurveyConfig, figures: Figures, tr: Translator) -> list[dict[str, Any]]:
    bars = []
    for element in config.elements:
        value = figures.nrr.get(element.code)
        points = float(value) * ikm.INDEX_FACTOR if value is not None else None
        bars.append({
            "code": element.code,
            "name": element.name.get(tr.locale),
            "nrr": format_nrr(tr, value),
            "points": (f"{points:.1f}".replace(".", "," if tr.locale == "id" else ".")
                       if points is not None else "-"),
            "width": max(0.0, min(100.0, points or 0.0)),
            "grade": ikm.rule(figures.rule).grade(points) if points is not None else None,
        })
    return bars


def _chart(rt: Runtime, config: SurveyConfig, period: Period, scope: Scope,
           tr: Translator) -> bytes:
    """The PNG, kept a few minutes: matplotlib takes a few hundred milliseconds."""
    charts = rt.console_charts
    key = (period.label, period.kind, scope.unit or "", scope.service or "", tr.locale)
    kept = charts.get(key)
    if kept is not None and time.monotonic() - kept[0] < CHART_CACHE_SECONDS:
        return kept[1]
    with rt.db.session() as session:
        report = _report(session, rt, config, period, scope, count_population=False)
        trend = _trend(session, rt, config, period, scope)
    png = render_chart(
        report, trend, config,
        title=tr.gettext("Satisfaction index (IKM), {period}").format(period=period.label)
        + " · " + _name(rt, scope, None, tr.locale, tr),
        trend_title=tr.gettext("Index over the last periods"),
        locale=tr.locale,
    )
    if len(charts) > 200:
        charts.clear()
    charts[key] = (time.monotonic(), png)
    return png


def _actions(session: Session, rt: Runtime, scope: Scope, config: SurveyConfig,
             tr: Translator) -> list[tuple[FollowUpAction, str, str]]:
    """The scope's follow-up actions, newest first, with the names of their service (or unit)
    and element in the reader's language."""
    actions = followups.list_followups(
        session, unit=scope.unit, service_ids=[scope.service] if scope.service else None,
        limit=50,
    )
    return [
        (a, service_name(rt, a.service_id, tr.locale) if a.service_id
         else a.unit or tr.gettext("The whole office"),
         (config.element(a.element).name.get(tr.locale)
          if config.element(a.element) else a.element))
        for a in actions
    ]


def routes(rt: Runtime) -> list[Route]:
    supervisor = staff_page(rt, "supervisor")
    report_maker = staff_page(rt, "supervisor", offload=True)
    public = public_page(rt)

    def _context(p: Page, scope: Scope, period: Period) -> dict[str, Any]:
        config = survey_config(rt)
        with rt.db.session() as session:
            report = _report(session, rt, config, period, scope)
            actions = _actions(session, rt, scope, config, p.tr)
        tr = p.tr
        return {
            "period": period,
            "until": date.fromordinal(period.end.toordinal() - 1),
            "rule": report.rule,
            "overall": figures_view(rt, report.overall, _name(rt, scope, None, tr.locale, tr),
                                    tr),
            "groups": [figures_view(rt, g, _name(rt, scope, g.key, tr.locale, tr), tr)
                       for g in report.groups],
            "bars": element_bars(config, report.overall, tr),
            "actions": actions,
            "scope": scope,
            "query": f"period={period.label}"
            + (f"&unit={scope.unit}" if scope.unit else "")
            + (f"&service={scope.service}" if scope.service else ""),
        }

    @supervisor
    def index_page(p: Page) -> Response:
        scope = scope_for(rt, p)
        if scope is None:
            return p.forbidden()
        period = _period(rt, p, "quarter")
        if period is None:
            return p.render("error.html", http_status=400, message=p.tr.gettext(
                "Unknown period: use 2026-11, 2026-Q3, 2026-S1, 2026 or "
                "2026-01-01..2026-03-31."))
        services = sorted(
            (service.name(p.tr.locale), sid) for sid, service in rt.knowledge.services.items()
            if scope.unit is None or service_unit(rt, sid) == scope.unit
        )
        return p.render("ikm.html", services=services, elements=survey_config(rt).elements,
                        units=units(rt) if p.principal.is_admin else [],
                        today=utcnow().astimezone(rt.tz).date().isoformat(),
                        saved=p.query.get("saved") == "1",
                        **_context(p, scope, period))

    def _download(p: Page, kind: str) -> Response:
        scope = scope_for(rt, p)
        period = _period(rt, p, "quarter")
        if scope is None:
            return p.forbidden()
        if period is None:
            return p.render("error.html", http_status=400, message=p.tr.gettext(
                "Unknown period: use 2026-11, 2026-Q3, 2026-S1, 2026 or "
                "2026-01-01..2026-03-31."))
        config = survey_config(rt)
        stem = f"ikm-{period.label}" + (f"-{scope.service}" if scope.service else "")
        if kind == "chart":
            return Response(_chart(rt, config, period, scope, p.tr), media_type="image/png",
                            headers={"Cache-Control": "private, max-age=300"})
        disposition = {"Content-Disposition": f'attachment; filename="{stem}-{kind}"'}
        if kind == "responses.csv":
            if scope.unit is not None and scope.service is None:
                return p.forbidden()  # the responses of other units' services would be in it
            # Too few respondents: no answers one by one (bot/surveys/exports.py), said why.
            office, minimum = rt.settings.default_locale, rt.settings.ikm_min_respondents
            with rt.db.session() as session:
                count = count_responses(session, period, rt.tz, only=scope.service)
            if count < minimum:
                return p.render("error.html", http_status=409, back="/console/ikm",
                                message=withheld_text(p.tr, count, minimum))

            def lines() -> Any:
                with rt.db.session() as session:
                    yield from responses_csv(session, config, period, rt.tz, locale=office,
                                             minimum_respondents=minimum, only=scope.service)

            return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                                     headers=disposition)
        with rt.db.session() as session:
            report = _report(session, rt, config, period, scope)
            actions = _actions(session, rt, scope, config, p.tr) if kind == "report.xlsx" \
                else []
        if kind == "summary.csv":
            return Response(summary_csv(report, config, locale=rt.settings.default_locale),
                            media_type="text/csv; charset=utf-8", headers=disposition)
        name_of = lambda key: _name(rt, scope, key, p.tr.locale, p.tr)  # noqa: E731
        if kind == "report.xlsx":  # a file for the office's records: in the office's language
            office = Translator(rt.settings.default_locale)
            office_name = lambda key: _name(rt, scope, key, office.locale, office)  # noqa: E731
            return Response(report_xlsx(report, config, office, office_name, actions),
                            media_type=XLSX_MIME, headers=disposition)
        pdf = report_pdf(report, config, p.tr, name_of, _chart(rt, config, period, scope, p.tr))
        return Response(pdf, media_type="application/pdf", headers=disposition)

    def download(kind: str) -> Any:
        def view(p: Page) -> Response:
            return _download(p, kind)

        view.__name__ = f"ikm_{kind.replace('.', '_')}"
        # The chart, the PDF and the workbook take matplotlib's or openpyxl's time.
        return (supervisor if kind.endswith(".csv") else report_maker)(view)

    @supervisor
    def add_action(p: Page) -> Response:
        try:
            taken_on = date.fromisoformat(p.form.get("taken_on", ""))
        except ValueError:
            taken_on = None
        problem = None
        if taken_on is None:
            problem = p.tr.gettext("Write the date of the action.")
        else:
            with rt.db.session() as session:
                try:
                    followups.add_followup(
                        session, rt, actor_id=p.principal.telegram_id,
                        actor_unit=None if p.principal.is_admin else p.principal.unit,
                        service_id=p.form.get("service") or None,
                        element=p.form.get("element", ""), text=p.form.get("text", ""),
                        taken_on=taken_on,
                    )
                except followups.FollowUpProblem as exc:
                    session.rollback()
                    problem = p.tr.gettext(exc.args[0])
        if problem is not None:
            return p.render("error.html", http_status=422, message=problem, back="/console/ikm")
        service = p.form.get("service") or ""
        return p.redirect("/console/ikm?saved=1" + (f"&service={service}" if service else ""))

    @public
    def public_index(p: Page) -> Response:
        today = utcnow().astimezone(rt.tz).date()
        period = _period(rt, p, "year") or parse_period("year", today)
        years = [str(today.year - n) for n in range(3)]
        return p.render("public_ikm.html", years=years, **_context(p, Scope(), period))

    @public
    def public_chart(p: Page) -> Response:
        period = _period(rt, p, "year")
        if period is None:
            return Response(status_code=400)
        png = _chart(rt, survey_config(rt), period, Scope(), p.tr)
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=300"})

    return [
        Route("/console/ikm", index_page, methods=["GET"]),
        Route("/console/ikm/chart.png", download("chart"), methods=["GET"]),
        Route("/console/ikm/report.pdf", download("report.pdf"), methods=["GET"]),
        Route("/console/ikm/report.xlsx", download("report.xlsx"), methods=["GET"]),
        Route("/console/ikm/summary.csv", download("summary.csv"), methods=["GET"]),
        Route("/console/ikm/responses.csv", download("responses.csv"), methods=["GET"]),
        Route("/console/ikm/actions", add_action, methods=["POST"]),
        Route("/ikm", public_index, methods=["GET"]),
        Route("/ikm/chart.png", public_chart, methods=["GET"]),
    ]
