"""The satisfaction index in the chat: /ikm for everyone, the report, chart and XLSX (or CSV)
exports for supervisors, chosen with period and unit buttons or typed."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import ContextTypes

from bot.core.exports import csv_lines, to_csv, to_xlsx
from bot.core.i18n import N_, Translator
from bot.core.models import utcnow
from bot.core.offload import off_the_loop
from bot.core.runtime import Runtime
from bot.core.text import escape as esc
from bot.people.roles import has_role
from bot.people.scope import report_scope
from bot.surveys.chart import render_chart
from bot.surveys.exports import (
    TooFewRespondents,
    count_responses,
    responses_table,
    sheet_name,
    summary_table,
    withheld_text,
)
from bot.surveys.questionnaire import service_name, service_unit
from bot.surveys.report import (
    GRADE_MEANINGS,
    Period,
    build_report,
    format_index,
    index_trend,
    parse_period,
    period_containing,
    render_report,
)
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
    user_role,
)
from handlers.surveys.questionnaire import replace_pressed, service_buttons, surveys_config

COMPRESS_ABOVE = 10 * 1024 * 1024  # bytes of CSV sent as they are; above, gzipped
REPORT_PREFIX = "ikr"  # the supervisors' period and unit buttons
WHOLE_OFFICE, PER_UNIT = "", "*"  # the unit part of a report button for the whole office


# --- the index: /ikm -------------------------------------------------------------------------


def _today(rt: Runtime) -> date:
    return utcnow().astimezone(rt.tz).date()


def published_period(rt: Runtime, today: date | None = None) -> Period:
    """What citizens see: the last complete month (a running month is not published yet)."""
    return period_containing("month", today or _today(rt)).previous()


def publication_note(rt: Runtime, tr: Translator, today: date | None = None) -> str:
    """When the next index is published: the running month's, the day after it ends."""
    running = period_containing("month", today or _today(rt))
    locale = "id_ID" if tr.locale == "id" else "en_GB"
    return tr.gettext(
        "The office publishes the index of each month once the month is over: the next one, "
        "for {month}, on {day}."
    ).format(
        month=format_date(running.start, "MMMM y", locale=locale),
        day=format_date(running.end, "d MMMM y", locale=locale),
    )


def units(rt: Runtime) -> list[str]:
    """The reporting units of the knowledge base's services."""
    services = rt.knowledge.services if rt.knowledge is not None else {}
    return sorted({u for sid in services if (u := service_unit(rt, sid))})


def _name_of(rt: Runtime, tr: Translator, by: str, unit: str | None = None):  # noqa: ANN202
    def name(key: str | None) -> str:
        if key is None:
            return _unit_name(rt, unit, tr.locale) if unit else tr.gettext("All services")
        if by == "service":
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
    if not has_role(user_role(update, context), "supervisor"):
        await _citizen_choice(update, context)
    elif context.args:
        await _supervisor_report(update, context)
    else:
        await _period_choice(update, context)


# --- supervisors: buttons like /laporan's, or the period typed ---------------------------------

REPORT_PERIODS = (
    ("month", 0, N_("This month")),
    ("month", 1, N_("Last month")),
    ("quarter", 0, N_("This quarter")),
    ("quarter", 1, N_("Last quarter")),
    ("year", 0, N_("This year")),
    ("year", 1, N_("Last year")),
)


def _report_data(action: str, arg: str) -> CallbackData | None:
    return CallbackData.fitting(REPORT_PREFIX, action, arg=arg)


async def _period_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    _ = translator(update, context).gettext
    today = _today(rt)
    rows = []
    for kind, back, label in REPORT_PERIODS:
        period = period_containing(kind, today)
        for _step in range(back):
            period = period.previous()
        data = _report_data("p", period.label)
        if data is not None:
            rows.append([InlineKeyboardButton(
                f"{_(label)} ({period.label})", callback_data=data.pack())])
    await reply_html(
        update,
        _("<b>Satisfaction index (IKM)</b>\nWhich period? (Or type it: /ikm 2026-11, "
          "/ikm 2026-Q3, /ikm 2026.)"),
        InlineKeyboardMarkup(rows),
    )


@staff_only("supervisor")
async def report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ikr:p:<period> offers the units; ikr:u:<period>:<unit> sends the report."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    query = update.callback_query
    pressed = CallbackData.parse(query.data, REPORT_PREFIX)
    label, _sep, unit = (pressed.arg or "").partition(":") if pressed else ("", "", "")
    try:
        period = parse_period(label, _today(rt)) if label else None
    except ValueError:
        period = None
    known = units(rt)
    if (
        pressed is None
        or period is None
        or pressed.action not in ("p", "u")
        or (pressed.action == "u" and unit not in (WHOLE_OFFICE, PER_UNIT, *known))
    ):
        await unknown_button(update, context)
        return
    await query.answer()
    if pressed.action == "p" and _own_unit(rt, update) is not None:
        pressed = CallbackData(REPORT_PREFIX, "u", None, f"{period.label}:")  # no choice to make
    if pressed.action == "p":
        choices = [(_("Whole office, per service"), WHOLE_OFFICE),
                   (_("Whole office, per unit"), PER_UNIT)]
        choices += [(_unit_name(rt, u, tr.locale), u) for u in known]
        rows = [
            [InlineKeyboardButton(text, callback_data=data.pack())]
            for text, key in choices
            if (data := _report_data("u", f"{period.label}:{key}")) is not None
        ]
        await replace_pressed(
            update,
            _("<b>Satisfaction index (IKM), {period}</b>\nWhich unit?").format(
                period=period.label),
            InlineKeyboardMarkup(rows),
        )
        return
    await replace_pressed(update, _("Preparing the report for {period}…").format(
        period=period.label), None)
    if unit == PER_UNIT:
        await _send_report(update, context, period, "unit", None, as_csv=False)
    else:
        await _send_report(update, context, period, "service", unit or None, as_csv=False)


async def _supervisor_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ikm <period> [service|unit] [csv]: figures, chart, the responses and the summary as
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
    try:
        period = parse_period(" ".join(args), _today(rt))
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
    await _send_report(update, context, period, by, None, as_csv=as_csv)


def _own_unit(rt: Runtime, update: Update) -> str | None:
    """The unit a supervisor's reports are limited to (bot/people/scope.py), else None: a
    unit's supervisor sees that unit's index only, whatever was pressed or typed."""
    with rt.db.session() as session:
        return report_scope(session, update.effective_user.id, rt.settings.admin_ids).unit


async def _send_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, period: Period, by: str,
    unit: str | None, *, as_csv: bool,
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    own = _own_unit(rt, update)
    if own is not None:
        unit = own
        by = "service" if by == "unit" else by
    files = await off_the_loop(_ikm_files, rt, tr, period, by, unit, as_csv)
    chat = update.effective_chat
    await reply_html(update, files.text)
    stem = period.label + (f"-{unit}" if unit else "")
    await chat.send_photo(
        InputFile(io.BytesIO(files.chart), filename=f"ikm-{stem}.png"),
        caption=_(
            "Elements (NRR × 25) against the grade bands of {rule}; below, the index over "
            "the last periods."
        ).format(rule=files.rule_title),
    )
    if files.responses is not None:
        await chat.send_document(
            InputFile(io.BytesIO(files.responses), filename=files.responses_name),
            caption=_("Responses, without personal data.")
            if as_csv or unit
            else _("Responses, without personal data. As CSV: /ikm {period} csv").format(
                period=period.label
            ),
        )
    suffix = "csv" if as_csv else "xlsx"
    await chat.send_document(
        InputFile(io.BytesIO(files.summary), filename=f"ikm-summary-{stem}.{suffix}"),
        caption=_("Summary per {grouping}.").format(
            grouping=_("service") if by == "service" else _("unit")
        ),
    )


@dataclass(frozen=True)
class _IkmFiles:
    text: str
    chart: bytes
    rule_title: str
    responses: bytes | None  # None: too few respondents to show them one by one
    responses_name: str
    summary: bytes


def _ikm_files(
    rt: Runtime, tr: Translator, period: Period, by: str, unit: str | None, as_csv: bool
) -> _IkmFiles:
    """Everything /ikm sends, computed in a report thread (bot/core/offload.py): the queries
    over a year of responses, the chart and the spreadsheets take long enough to hold up every
    other chat. The spreadsheets speak the office's language, the text and chart the reader's."""
    _ = tr.gettext
    config = surveys_config(rt)
    office = rt.settings.default_locale
    minimum = rt.settings.ikm_min_respondents
    stem = period.label + (f"-{unit}" if unit else "")
    with rt.db.session() as session:
        report = build_report(
            session, config, period, rt.tz, by=by, unit=unit,
            unit_of=lambda service_id: service_unit(rt, service_id),
        )
        trend = index_trend(session, config, period, rt.tz, count=6, unit=unit)
        try:
            columns, rows = responses_table(
                session, config, period, rt.tz, locale=office, minimum_respondents=minimum,
                unit=unit,
            )
            rows = list(rows)  # read within the session: the rows may stream from a cursor
            shown, withheld = True, None
        except TooFewRespondents as few:
            # No file; why is said, unless there is nobody ("no complete answers" says it).
            shown, rows = False, []
            withheld = withheld_text(tr, few.count, few.minimum) if few.count else None
    png = render_chart(
        report,
        trend,
        config,
        title=_("Satisfaction index {period}").format(period=period.label),
        trend_title=_("Index over the last periods"),
        locale=tr.locale,
    )
    summary_columns, summary_rows = summary_table(report, config, locale=office)
    data: bytes | None = None
    if as_csv:
        filename = f"ikm-responses-{stem}.csv"
        if shown:
            data = "".join(csv_lines(columns, rows)).encode("utf-8")
            if len(data) > COMPRESS_ABOVE:
                # A year of a busy office can pass Telegram's 50 MB for bots; CSV shrinks
                # well (XLSX is compressed already).
                data, filename = gzip.compress(data), filename + ".gz"
        summary = to_csv(summary_columns, summary_rows).encode("utf-8")
    else:
        filename = f"ikm-responses-{stem}.xlsx"
        if shown:
            data = to_xlsx(columns, rows, sheet=sheet_name("responses", office))
        summary = to_xlsx(summary_columns, summary_rows, sheet=sheet_name("summary", office))
    return _IkmFiles(
        text=render_report(tr, report, config, _name_of(rt, tr, by, unit), withheld=withheld),
        chart=png,
        rule_title=report.rule.title,
        responses=data,
        responses_name=filename,
        summary=summary,
    )


# --- citizens: the published index ------------------------------------------------------------


async def _citizen_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    with rt.db.session() as session:
        published = count_responses(session, published_period(rt), rt.tz)
    if not published:
        await reply_html(
            update,
            _("<b>Satisfaction index (IKM)</b>\nNo index has been published yet.") + "\n"
            + esc(publication_note(rt, tr)),
        )
        return
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
        lines.append(esc(publication_note(rt, tr)))
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
