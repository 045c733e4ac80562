"""Lists (/complaints), the supervisors' report (/laporan), and the jobs that escalate and close
(they only queue messages; the outbox sender delivers)."""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, timedelta

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.complaints.lists import ListFilter, list_for_staff
from bot.complaints.render import format_day, render_staff_list
from bot.complaints.reports import complaint_report, export_file, render_report
from bot.complaints.sla import close_silent, escalate_overdue
from bot.complaints.vocabulary import (
    STATUSES,
    categories,
)
from bot.core.i18n import N_, Translator
from bot.core.models import utcnow
from bot.core.offload import off_the_loop
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.roles import audit
from bot.people.scope import report_scope
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
)
from handlers.complaints.shared import acting_viewer, inline_keyboard

LIST_WORDS = {
    "overdue": "overdue",
    "terlambat": "overdue",
    "mine": "mine",
    "saya": "mine",
    "all": "all",
    "semua": "all",
    "open": "open",
    "terbuka": "open",
}

log = logging.getLogger(__name__)


def parse_list_filter(rt: Runtime, words: list[str]) -> ListFilter | None:
    """'/complaints overdue mine illegal_levy': None when a word is not a filter."""
    status, category, overdue, mine = None, None, False, False
    category_keys = {c.key for c in categories(rt)}
    for word in (w.lower() for w in words):
        meaning = LIST_WORDS.get(word)
        if meaning == "overdue":
            overdue = True
        elif meaning == "mine":
            mine = True
        elif meaning in ("all", "open"):
            status = meaning
        elif word in STATUSES:
            status = word
        elif word in category_keys:
            category = word
        else:
            return None
    return ListFilter(status=status, category=category, overdue=overdue, mine=mine)


@staff_only("officer")
async def complaints_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/complaints [open|all|<status>] [<category>] [overdue] [mine]."""
    rt = runtime(context)
    tr = translator(update, context)
    flt = parse_list_filter(rt, list(context.args or []))
    if flt is None:
        _ = tr.gettext
        await reply_html(
            update,
            _(
                "Filters: open, all, a status ({statuses}), a category ({categories}), "
                "overdue, mine."
            ).format(
                statuses=", ".join(STATUSES),
                categories=", ".join(c.key for c in categories(rt)),
            ),
        )
        return
    await _send_list(update, context, flt, tr)


async def list_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cl:<filter>: the quick filters under a list."""
    query = update.callback_query
    rt = runtime(context)
    pressed = CallbackData.parse(query.data, "cl")
    word = pressed.action if pressed is not None and pressed.arg is None else ""
    flt = parse_list_filter(rt, [word])
    if flt is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await _send_list(update, context, flt, translator(update, context))


async def _send_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flt: ListFilter, tr: Translator
) -> None:
    rt = runtime(context)
    _ = tr.gettext
    now = utcnow()
    with rt.db.session() as s:
        viewer = acting_viewer(s, rt, update.effective_user)
        rows = list_for_staff(s, viewer, flt, now=now)
        text = render_staff_list(s, rt, rows, tr, now)
    buttons = [[(f"🎫 {c.ticket}", CallbackData("cx", "view", c.id).pack())] for c in rows[:10]]
    buttons.append(
        [
            (_("Open"), CallbackData("cl", "open").pack()),
            (_("Mine"), CallbackData("cl", "mine").pack()),
            (_("Overdue"), CallbackData("cl", "overdue").pack()),
            (_("All"), CallbackData("cl", "all").pack()),
        ]
    )
    await reply_html(update, _("<b>Complaints</b>") + "\n" + text, inline_keyboard(buttons))


EXPORT_FORMATS = ("xlsx", "csv")  # the first is what "Export" gives
REPORT_PERIODS = {
    "month": N_("This month"),
    "prev": N_("Last month"),
    "30": N_("Last 30 days"),
    "year": N_("This year"),
}


def report_period(choice: str, today: date) -> tuple[date, date] | None:
    if choice == "month":
        return today.replace(day=1), today
    if choice == "prev":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if choice == "30":
        return today - timedelta(days=29), today
    if choice == "year":
        return today.replace(month=1, day=1), today
    return None


@staff_only("supervisor")
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/laporan [YYYY-MM-DD YYYY-MM-DD]: figures for a period; without dates, a choice."""
    tr = translator(update, context)
    _ = tr.gettext
    args = context.args or []
    if len(args) == 2:
        try:
            start, end = date.fromisoformat(args[0]), date.fromisoformat(args[1])
        except ValueError:
            start = end = None
        if start is None or end < start:
            await reply_html(update, _("Usage: /laporan 2026-01-01 2026-03-31"))
            return
        await _send_report(update, context, start, end, tr)
        return
    rows = [[(_(label), CallbackData("rp", key).pack())] for key, label in REPORT_PERIODS.items()]
    await reply_html(update, _("Which period?"), inline_keyboard(rows))


@staff_only("supervisor")
async def report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rp:<period>, and rp:f:<xlsx|csv>:<start>:<end> under a report: its export."""
    query = update.callback_query
    rt = runtime(context)
    today = utcnow().astimezone(rt.tz).date()
    pressed = CallbackData.parse(query.data, "rp")
    if pressed is not None and pressed.action == "f":
        await _send_export(update, context, pressed)
        return
    key = pressed.action if pressed is not None and pressed.arg is None else ""
    period = report_period(key, today)
    if period is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await _send_report(update, context, *period, translator(update, context))


def _own_unit(rt: Runtime, update: Update) -> str | None:
    """The unit a supervisor's reports are limited to (bot/people/scope.py), else None."""
    with rt.db.session() as s:
        return report_scope(s, update.effective_user.id, rt.settings.admin_ids).unit


def _report_text(
    rt: Runtime, start: date, end: date, tr: Translator, unit: str | None = None
) -> str:
    """In a report thread (bot/core/offload.py): a year of tickets is read and counted. A
    supervisor of a unit gets that unit's figures, and the report names the unit."""
    with rt.db.session() as s:
        report = complaint_report(s, rt, start, end, unit=unit)
    text = render_report(rt, report, tr)
    if unit is not None:
        title, _sep, rest = text.partition("\n")
        text = f"{title}\n{tr.gettext('Unit: {unit}').format(unit=escape(unit))}\n{rest}"
    return text


async def _send_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, start: date, end: date, tr: Translator
) -> None:
    rt = runtime(context)
    _ = tr.gettext
    with rt.db.session() as s:
        acting_viewer(s, rt, update.effective_user)  # a supervisor's name, for colleagues
    unit = _own_unit(rt, update)
    text = await off_the_loop(_report_text, rt, start, end, tr, unit)
    span = f"{start:%Y%m%d}:{end:%Y%m%d}"
    buttons = inline_keyboard(
        [
            [
                (_("📥 Export (XLSX)"), CallbackData("rp", "f", arg=f"xlsx:{span}").pack()),
                (_("CSV"), CallbackData("rp", "f", arg=f"csv:{span}").pack()),
            ]
        ]
    )
    await reply_html(update, text, buttons)


def _export_request(pressed: CallbackData) -> tuple[str, date, date] | None:
    """(format, start, end) of an export button; None when malformed or forged."""
    parts = pressed.arg_parts(3)
    if parts is None or parts[0] not in EXPORT_FORMATS:
        return None
    try:
        start, end = (datetime.strptime(p, "%Y%m%d").date() for p in parts[1:])
    except ValueError:
        return None
    return (parts[0], start, end) if start <= end else None


def _export(
    rt: Runtime, start: date, end: date, fmt: str, unit: str | None
) -> tuple[bytes, str]:
    with rt.db.session() as s:
        return export_file(s, rt, start, end, fmt=fmt, unit=unit)


async def _send_export(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: CallbackData
) -> None:
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    request = _export_request(pressed)
    if request is None:
        await unknown_button(update, context)
        return
    fmt, start, end = request
    await query.answer()
    data, filename = await off_the_loop(_export, rt, start, end, fmt, _own_unit(rt, update))
    # Written back on the event loop, as bot/core/offload.py asks: who took the names out.
    with rt.db.session() as s:
        audit(
            s,
            actor_id=update.effective_user.id,
            action="complaints.export",
            subject=f"{start.isoformat()}..{end.isoformat()}",
            format=fmt,
        )
    await update.effective_chat.send_document(
        InputFile(io.BytesIO(data), filename=filename),
        caption=tr.gettext(
            "Complaints received {start} – {end}. Anonymous complainants are not named."
        ).format(start=format_day(start, tr), end=format_day(end, tr)),
    )


# --- jobs: they only queue; the outbox sender delivers ----------------------------------------


async def escalation_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    with rt.db.session() as s:
        queued = escalate_overdue(s, rt)
    if queued:
        log.info("complaints: %d overdue notice(s) queued", queued)


async def silent_close_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    with rt.db.session() as s:
        closed = close_silent(s, rt)
    if closed:
        log.info("complaints: %d ticket(s) closed after silence", closed)
