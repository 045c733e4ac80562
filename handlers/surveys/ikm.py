"""The satisfaction index in the chat: /ikm for everyone, the report, chart and XLSX (or CSV)
exports for supervisors."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import ContextTypes

from bot.core.exports import csv_lines, to_csv, to_xlsx
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.offload import off_the_loop
from bot.core.runtime import Runtime
from bot.core.text import escape as esc
from bot.people.roles import has_role
from bot.people.scope import report_scope
from bot.surveys.chart import render_chart
from bot.surveys.questionnaire import service_name
from bot.surveys.report import (
    GRADE_MEANINGS,
    Period,
    build_report,
    format_index,
    parse_period,
    period_containing,
    render_report,
    summary_table,
)
from bot.surveys.scoped import scoped_report, scoped_responses, scoped_trend
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    translator,
    unknown_button,
    user_role,
)
from handlers.surveys.questionnaire import replace_pressed, service_buttons, surveys_config

COMPRESS_ABOVE = 10 * 1024 * 1024  # bytes of CSV sent as they are; above, gzipped


# --- the index: /ikm -------------------------------------------------------------------------


def published_period(rt: Runtime, today: date | None = None) -> Period:
    """What citizens see: the last complete month (a running month is not published yet)."""
    today = today or utcnow().astimezone(rt.tz).date()
    return period_containing("month", today).previous()


def _name_of(rt: Runtime, tr: Translator, by: str, unit: str | None = None):  # noqa: ANN202
    def name(key: str | None) -> str:
        if key is None:
            return tr.gettext("All services")
        if by == "service" and key != unit:
            return service_name(rt, key, tr.locale)
        return _unit_name(rt, key, tr.locale)

    return name


def _unit_name(rt: Runtime, key: str, locale: str) -> str:
    office = getattr(rt.knowledge, "office", None)
    for category in getattr(office, "categories", ()) or ():
        if getattr(category, "id", None) == key:
            name = getattr(category, "name", key)
            return name.get(locale) if hasattr(name, "get") else str(name)
    return key


async def ikm_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if has_role(user_role(update, context), "supervisor"):
        await _supervisor_report(update, context)
    else:
        await _citizen_choice(update, context)


async def _supervisor_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ikm [period] [service|unit] [csv]: figures, chart, the responses and the summary as
    XLSX (CSV on request)."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = list(context.args or [])
    as_csv = bool(args) and args[-1].lower() == "csv"
    if as_csv:
        args.pop()
    by = "service"
    if args and args[-1].lower() in ("service", "unit", "layanan", "unit-kerja"):
        by = "unit" if args.pop().lower().startswith("unit") else "service"
    today = utcnow().astimezone(rt.tz).date()
    try:
        period = parse_period(" ".join(args), today)
    except ValueError:
        await reply_html(
            update,
            _(
                "I could not read that period. Write for example /ikm 2026-11, /ikm 2026-Q3, "
                "/ikm 2026-S1, /ikm 2026 or /ikm 2026-01-01..2026-03-31, optionally followed by "
                "unit."
            ),
        )
        return
    with rt.db.session() as session:
        # A supervisor of a unit sees that unit's index only (bot/people/scope.py).
        unit = report_scope(session, update.effective_user.id, rt.settings.admin_ids).unit
    files = await off_the_loop(_ikm_files, rt, tr, period, by, as_csv, unit)
    chat = update.effective_chat
    await reply_html(update, files.text)
    await chat.send_photo(
        InputFile(io.BytesIO(files.chart), filename=f"ikm-{period.label}.png"),
        caption=_(
            "Elements (NRR × 25) against the grade bands of {rule}; below, the index over "
            "the last periods."
        ).format(rule=files.rule_title),
    )
    await chat.send_document(
        InputFile(io.BytesIO(files.responses), filename=files.responses_name),
        caption=_("Responses, without personal data.")
        if as_csv
        else _("Responses, without personal data. As CSV: /ikm {period} csv").format(
            period=period.label
        ),
    )
    suffix = "csv" if as_csv else "xlsx"
    await chat.send_document(
        InputFile(io.BytesIO(files.summary), filename=f"ikm-summary-{period.label}.{suffix}"),
        caption=_("Summary per {grouping}.").format(
            grouping=_("service") if by == "service" else _("unit")
        ),
    )


@dataclass(frozen=True)
class _IkmFiles:
    text: str
    chart: bytes
    rule_title: str
    responses: bytes
    responses_name: str
    summary: bytes


def _ikm_files(
    rt: Runtime, tr: Translator, period: Period, by: str, as_csv: bool, unit: str | None = None
) -> _IkmFiles:
    """Everything /ikm sends, computed in a report thread (bot/core/offload.py): the queries
    over a year of responses, the chart and the spreadsheets take long enough to hold up every
    other chat. ``unit``: that unit's figures and responses only."""
    _ = tr.gettext
    config = surveys_config(rt)
    with rt.db.session() as session:
        report = scoped_report(session, rt, config, period, by=by, unit=unit)
        trend = scoped_trend(session, rt, config, period, unit=unit, count=6)
        columns, rows = scoped_responses(session, config, period, rt, unit=unit)
        rows = list(rows)  # read within the session: the rows may stream from a cursor
    png = render_chart(
        report,
        trend,
        config,
        title=_("Satisfaction index {period}").format(period=period.label),
        trend_title=_("Index over the last periods"),
    )
    summary_columns, summary_rows = summary_table(report, config)
    if as_csv:
        data = "".join(csv_lines(columns, rows)).encode("utf-8")
        filename = f"ikm-responses-{period.label}.csv"
        if len(data) > COMPRESS_ABOVE:
            # A year of a busy office can pass Telegram's 50 MB for bots; CSV shrinks well
            # (XLSX is compressed already).
            data, filename = gzip.compress(data), filename + ".gz"
        summary = to_csv(summary_columns, summary_rows).encode("utf-8")
    else:
        data = to_xlsx(columns, rows, sheet="responses")
        filename = f"ikm-responses-{period.label}.xlsx"
        summary = to_xlsx(summary_columns, summary_rows, sheet="summary")
    return _IkmFiles(
        text=render_report(tr, report, config, _name_of(rt, tr, by, unit)),
        chart=png,
        rule_title=report.rule.title,
        responses=data,
        responses_name=filename,
        summary=summary,
    )


async def _citizen_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    rows = [
        [InlineKeyboardButton(_("All services"), callback_data=CallbackData("ikm", "all").pack())]
    ]
    rows += service_buttons(rt, tr.locale, "ikm", "s")
    await reply_html(
        update,
        _(
            "<b>Satisfaction index (IKM)</b>\nThe office publishes its citizens' satisfaction "
            "every month. Which service would you like to see?"
        ),
        InlineKeyboardMarkup(rows),
    )


async def ikm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    query = update.callback_query
    data = CallbackData.parse(query.data, "ikm")
    service_id: str | None = None
    if data is not None and data.action == "s" and data.arg is not None:
        service_id = data.arg
        if rt.knowledge is None or service_id not in rt.knowledge.services:
            await unknown_button(update, context)
            return
    elif data is None or data.action != "all" or data.arg is not None:
        await unknown_button(update, context)
        return
    period = published_period(rt)
    with rt.db.session() as session:
        report = build_report(
            session,
            surveys_config(rt),
            period,
            rt.tz,
            by="service" if service_id else "overall",
            only=service_id,
        )
    figures = report.overall
    name = service_name(rt, service_id, tr.locale) if service_id else _("All services")
    score = figures.score
    lines = [f"<b>{esc(name)}</b>", _("Period: {period}").format(period=period.label)]
    if score is None:
        lines.append(_("No index has been published for this period yet."))
    else:
        lines.append(
            _("Satisfaction index: <b>{index}</b>, grade {grade}").format(
                index=format_index(tr, score), grade=_(GRADE_MEANINGS[score.grade])
            )
        )
        lines.append(
            tr.ngettext(
                "From {count} respondent.", "From {count} respondents.", figures.respondents
            ).format(count=figures.respondents)
        )
        if not figures.sample_reached:
            lines.append(
                _(
                    "The number of respondents is still below the minimum sample, so "
                    "read this figure with care."
                )
            )
    lines.append(_("Method: {rule}.").format(rule=report.rule.title))
    await query.answer()
    await replace_pressed(update, "\n".join(lines), None)
