"""What the application handlers share: an application's card, and its follow buttons."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import (
    ContextTypes,
)

from bot.applications.models import Application as App
from bot.applications.models import ApplicationEvent
from bot.applications.notices import meaningful_note
from bot.applications.pickup import pickup_lines, pickup_plan
from bot.applications.statuses import FINAL_STATUSES, READY_FOR_PICKUP, ServiceSteps
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.telegram_rules.callback import CallbackData

MAX_CSV_BYTES = 1_000_000
REPORT_REFUSED_SHOWN = 50


# --- shared rendering ----------------------------------------------------------------------------


def service_steps(rt: Runtime, application: App) -> ServiceSteps:
    return ServiceSteps.of(rt.knowledge.services.get(application.service_id))


def service_name(rt: Runtime, service_id: str, tr: Translator) -> str:
    service = rt.knowledge.services.get(service_id)
    return escape(service.name(tr.locale) if service is not None else service_id)


def due_text(rt: Runtime, application: App, tr: Translator, now: datetime) -> str:
    _ = tr.gettext
    service = rt.knowledge.services.get(application.service_id)
    by_hours = service is not None and service.duration.unit == "hours"
    when = (tr.datetime if by_hours else tr.date)(application.due_at, rt.settings.tz)
    if application.status in FINAL_STATUSES:
        state = _("finished late") if application.is_overdue(now) else _("finished on time")
    else:
        state = _("⚠️ overdue") if application.is_overdue(now) else _("on time")
    return _("Due date: {date} ({state})").format(date=when, state=state)


def render_card(
    rt: Runtime, application: App, events: list[ApplicationEvent], tr: Translator
) -> str:
    """What a citizen sees: service, status, due date, the whole history (notes escaped)."""
    _ = tr.gettext
    steps = service_steps(rt, application)
    now = utcnow()
    lines = [
        _("<b>Application {number}</b>").format(
            number=f"<code>{application.display_number}</code>"
        ),
        _("Service: {service}").format(service=service_name(rt, application.service_id, tr)),
        _("Status: <b>{status}</b>").format(status=escape(steps.label(application.status, tr))),
        due_text(rt, application, tr, now),
        "",
        _("<b>History</b>"),
    ]
    for event in events:
        line = f"• {tr.datetime(event.at, rt.settings.tz)}: {escape(steps.label(event.status, tr))}"
        note = meaningful_note(event.note)
        if note:
            line += f" — <i>{escape(note)}</i>"
        lines.append(line)
    if application.status == READY_FOR_PICKUP:
        ready_at = next(
            (e.at for e in reversed(events) if e.status == READY_FOR_PICKUP),
            application.updated_at,
        )
        service = rt.knowledge.services.get(application.service_id)
        lines += ["", *pickup_lines(rt, pickup_plan(rt, service, ready_at), tr)]
    return "\n".join(lines)


def follow_mac(token: str, user_id: int, application_id: int) -> str:
    """Proof in a Follow button that this user gave the right code for this application, so a
    forged button cannot follow someone else's application."""
    key = hashlib.sha256(b"follow:" + token.encode()).digest()
    message = f"{user_id}:{application_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def card_markup(
    context: ContextTypes.DEFAULT_TYPE, tr: Translator, application: App, user_id: int, *,
    following: bool,
) -> InlineKeyboardMarkup:
    _ = tr.gettext
    if following:
        button = InlineKeyboardButton(
            _("🔕 Stop following"), callback_data=CallbackData("st", "uf", application.id).pack()
        )
    else:
        mac = follow_mac(context.bot.token, user_id, application.id)
        button = InlineKeyboardButton(
            _("🔔 Follow this application"),
            callback_data=CallbackData("st", "fo", application.id, mac).pack(),
        )
    return InlineKeyboardMarkup([[button]])
