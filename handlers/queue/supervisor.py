"""Supervisors: /tutup closes a day or part of it, /statistik gives the queue's figures (text,
chart, CSV, XLSX), /gangguan posts and ends disruption notices."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import date, datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import ContextTypes

from bot.core.i18n import Translator
from bot.people.roles import audit
from bot.people.scope import report_scope
from bot.queue import closures, notices, reports
from bot.queue.buttons import STATS
from bot.queue.service import QueueError, config_of, local_today
from bot.surveys.questionnaire import service_unit
from bot.telegram_rules.callback import CallbackData
from handlers.common import reply_html, runtime, staff_only, translator, unknown_button
from handlers.queue.citizen import error_text

RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WHOLE_OFFICE = ("semua", "all")
END_WORDS = ("selesai", "end", "over")
MAX_REPORT_DAYS = 92


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _own_services(rt: object, user_id: int, service_ids: object) -> frozenset[str] | None:
    """The services a supervisor of a unit may act on (their unit's, bot/people/scope.py);
    None for admins and supervisors in no unit (every service)."""
    with rt.db.session() as session:
        scope = report_scope(session, user_id, rt.settings.admin_ids)
    return scope.services(service_ids, lambda s: service_unit(rt, s))


# --- /tutup --------------------------------------------------------------------------------


@staff_only("supervisor")
async def close_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = list(context.args or [])
    usage = _("Close a day or part of it for bookings: /tutup 2026-12-07, or /tutup 2026-12-07 "
              "10:00-12:00, optionally followed by a service id (e.g. ktp-el).")
    day = _date(args.pop(0)) if args else None
    if day is None:
        await reply_html(update, usage)
        return
    start = end = service_id = None
    if args and (found := RANGE_RE.match(args[0])):
        start, end = f"{found[1]}:{found[2]}", f"{found[3]}:{found[4]}"
        args.pop(0)
    if args:
        service_id = args.pop(0).lower()
    if args or (start is not None and end <= start):
        await reply_html(update, usage)
        return
    config = config_of(rt)
    own = _own_services(rt, update.effective_user.id, config.services if config else ())
    if own is not None and service_id is not None and service_id not in own:
        await reply_html(update, _("You close bookings for your unit's services only."))
        return
    # A supervisor of a unit closing every service closes that unit's services.
    targets: list[str | None] = [service_id] if own is None or service_id else sorted(own)
    if not targets:
        await reply_html(update, _("You close bookings for your unit's services only."))
        return
    slots = told = 0
    try:
        with rt.db.session() as session:
            for target in targets:
                n, m = closures.close(session, rt, day=day, start=start, end=end,
                                      service_id=target, actor_id=update.effective_user.id)
                slots, told = slots + n, told + m
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    await reply_html(update, _("Closed {slots} slots. {told} booked citizens are being told, "
                               "with a button to move.").format(slots=slots, told=told))


# --- /statistik ----------------------------------------------------------------------------


def _period(rt: object, args: list[str]) -> tuple[date, date] | None:
    today = local_today(rt, rt.now())
    if not args:
        return today, today
    days = [_date(a) for a in args[:2]]
    if any(d is None for d in days) or len(args) > 2:
        return None
    start, end = days[0], days[-1]
    if end < start or (end - start).days > MAX_REPORT_DAYS:
        return None
    return start, end


def _report(rt: object, start: date, end: date, user_id: int) -> list[reports.Row]:
    """The figures the supervisor may see: a unit supervisor's unit's services only."""
    with rt.db.session() as session:
        scope = report_scope(session, user_id, rt.settings.admin_ids)
        rows = reports.build(session, start=start, end=end, today=local_today(rt, rt.now()))
    services = scope.services({r.service_id for r in rows}, lambda s: service_unit(rt, s))
    return rows if services is None else [r for r in rows if r.service_id in services]


@staff_only("supervisor")
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    period = _period(rt, list(context.args or []))
    if period is None:
        await reply_html(update, _("Queue figures: /statistik for today, /statistik 2026-12-07, "
                                   "or /statistik 2026-12-01 2026-12-31 (at most 92 days)."))
        return
    start, end = period
    rows = _report(rt, start, end, update.effective_user.id)
    key = f"{start:%Y%m%d}:{end:%Y%m%d}"
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(label, callback_data=CallbackData(STATS, kind, arg=key).pack())
        for label, kind in ((_("📊 Chart"), "png"), ("CSV", "csv"), ("XLSX", "xlsx"))
    ]]) if rows else None
    await reply_html(update, reports.render_text(rt, rows, tr, start, end), markup)


@staff_only("supervisor")
async def stats_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    query = update.callback_query
    data = CallbackData.parse(query.data, STATS)
    days = data.arg_parts(2) if data is not None else None
    period = None
    if days is not None and data.action in ("png", "csv", "xlsx"):
        try:
            period = (datetime.strptime(days[0], "%Y%m%d").date(),
                      datetime.strptime(days[1], "%Y%m%d").date())
        except ValueError:
            period = None
    if period is None:
        await unknown_button(update, context)
        return
    await query.answer()
    start, end = period
    rows = _report(rt, start, end, update.effective_user.id)
    name = f"antrean-{start:%Y%m%d}-{end:%Y%m%d}"
    chat = update.effective_chat
    if data.action == "png":
        # matplotlib blocks for a good fraction of a second: not on the event loop.
        png = await asyncio.to_thread(reports.render_chart, rt, rows, tr)
        await chat.send_photo(InputFile(io.BytesIO(png), filename=f"{name}.png"))
    elif data.action == "csv":
        await chat.send_document(InputFile(io.BytesIO(reports.to_csv(rows)),
                                           filename=f"{name}.csv"))
    else:
        data = await asyncio.to_thread(reports.to_xlsx, rows)
        await chat.send_document(InputFile(io.BytesIO(data), filename=f"{name}.xlsx"))


# --- /gangguan -----------------------------------------------------------------------------


def _expected_end(rt: object, args: list[str], now: datetime) -> tuple[datetime | None, int]:
    """The expected end from the arguments, and how many arguments it used: 14:00 (today),
    2026-12-07 (the end of that day) or 2026-12-07 14:00."""
    if not args:
        return None, 0
    if found := CLOCK_RE.match(args[0]):
        moment = datetime.combine(local_today(rt, now), time(int(found[1]), int(found[2])),
                                  tzinfo=rt.tz)
        return moment, 1
    day = _date(args[0])
    if day is None:
        return None, 0
    if len(args) > 1 and (found := CLOCK_RE.match(args[1])):
        return datetime.combine(day, time(int(found[1]), int(found[2])), tzinfo=rt.tz), 2
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=rt.tz), 1


async def _end_notices(update: Update, rt: object, tr: Translator, scope: str | None,
                       own: frozenset[str] | None) -> None:
    """``/gangguan selesai [SERVICE|semua]``: without a scope, every notice the supervisor may
    end (a unit's supervisor: the unit's services'); with one, that service's or the office-wide
    ones."""
    _ = tr.gettext
    if scope is None:
        services, whole_office = own, own is None
    elif scope in WHOLE_OFFICE:
        services, whole_office = frozenset(), True
    else:
        services, whole_office = frozenset({scope}), False
    if own is not None and (whole_office or not services <= own):
        await reply_html(update, _("A supervisor of a unit ends notices for the unit's "
                                   "services only: /gangguan selesai, or /gangguan selesai "
                                   "SERVICE."))
        return
    with rt.db.session() as session:
        ended = notices.end_active(session, rt, rt.now(), services=services,
                                   whole_office=whole_office)
        audit(session, actor_id=update.effective_user.id, action="queue.notice_end",
              subject=scope or "all", ended=ended)
    await reply_html(update, _("{count} notices ended; the all-clear is on its way to "
                               "everyone who was told.").format(count=ended) if ended
                     else _("No disruption notice is in force."))


@staff_only("supervisor")
async def notice_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = list(context.args or [])
    now = rt.now()
    known = rt.knowledge.services if rt.knowledge is not None else {}
    own = _own_services(rt, update.effective_user.id, known)
    if args and args[0].lower() in END_WORDS:
        await _end_notices(update, rt, tr, args[1].lower() if len(args) > 1 else None, own)
        return
    usage = _("Post a disruption notice: /gangguan SERVICE END REASON, where SERVICE is a "
              "service id or semua (the whole office) and END is 14:00, 2026-12-07 or "
              "2026-12-07 14:00. Example: /gangguan ktp-el 14:00 Blangko KTP habis. End it "
              "with /gangguan selesai (or /gangguan selesai SERVICE).")
    scope = args.pop(0).lower() if args else ""
    ends_at, used = _expected_end(rt, args, now)
    reason = " ".join(args[used:])
    if not scope or ends_at is None or not reason:
        await reply_html(update, usage)
        return
    service_id = None if scope in WHOLE_OFFICE else scope
    if own is not None and (service_id is None or service_id not in own):
        await reply_html(update, _("A supervisor of a unit posts notices for the unit's "
                                   "services only: /gangguan SERVICE END REASON."))
        return
    try:
        with rt.db.session() as session:
            notice, told = notices.post_notice(
                session, rt, service_id=service_id, ends_at=ends_at, reason=reason,
                actor_id=update.effective_user.id, now=now)
            audit(session, actor_id=update.effective_user.id, action="queue.notice",
                  subject=service_id or "office", told=told)
            text = notices.notice_text(rt, notice, tr)
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    await reply_html(update, text + "\n\n" + _("Posted. {count} people are being told once; "
                                               "they get the all-clear when it ends.")
                     .format(count=told))
