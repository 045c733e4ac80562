"""What citizens and officers read about the queue: confirmations, tickets, calls, reminders,
and the booking code's QR image. Every text from the knowledge base is escaped here."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import segno
from babel.dates import format_date

from bot.core.i18n import N_, Translator
from bot.core.text import escape
from bot.queue.models import QueueBooking
from bot.queue.service import config_of

PRIORITY_LABELS = {
    "elderly": N_("👴 Elderly (60+)"),
    "disability": N_("♿ Disability"),
    "pregnant": N_("🤰 Pregnant"),
    "toddler": N_("👶 With a toddler"),
}


def service_name(rt: Any, service_id: str, locale: str) -> str:
    service = rt.knowledge.services.get(service_id)
    return service.name(locale) if service is not None else service_id


def day_label(tr: Translator, day: date) -> str:
    """"Senin, 7 Desember 2026" / "Monday, 7 December 2026"."""
    return format_date(day, format="EEEE, d MMMM y", locale="id_ID" if tr.locale == "id"
                       else "en_GB")


def short_day(tr: Translator, day: date) -> str:
    return format_date(day, format="EEE d MMM", locale="id_ID" if tr.locale == "id" else "en_GB")


def counters_label(rt: Any, service_id: str) -> str:
    config = config_of(rt)
    if config is None or service_id not in config.services:
        return "-"
    return config.services[service_id].counters_label()


def slot_label(rt: Any, start: str) -> str:
    config = config_of(rt)
    hour, minute = (int(p) for p in start.split(":"))
    end = hour * 60 + minute + (config.slot_minutes if config else 30)
    return f"{start}-{end // 60:02d}:{end % 60:02d}"


def requirements_lines(rt: Any, service_id: str, tr: Translator) -> list[str]:
    service = rt.knowledge.services.get(service_id)
    if service is None:
        return []
    lines = []
    for group in service.requirements:
        if group.label is not None:
            lines.append(f"<i>{escape(group.label.get(tr.locale))}</i>")
        lines += [f"• {escape(item.get(tr.locale))}" for item in group.items]
    return lines


def ticket_number(booking: QueueBooking) -> str:
    return f"{booking.ticket:03d}" if booking.ticket is not None else "-"


def confirmation_text(rt: Any, booking: QueueBooking, tr: Translator) -> str:
    _ = tr.gettext
    lines = [
        _("✅ <b>Your visit is booked</b>"),
        "",
        _("Booking code: <code>{code}</code>").format(code=booking.code),
        _("Service: {service}").format(
            service=escape(service_name(rt, booking.service_id, tr.locale))
        ),
        _("Day: {day}").format(day=day_label(tr, booking.day)),
        _("Time: {slot}").format(slot=slot_label(rt, booking.start or "00:00")),
        _("Counter: {counter}").format(counter=counters_label(rt, booking.service_id)),
    ]
    if booking.priority:
        lines.append(_("Priority service: you will be called first."))
    lines += ["", _("<b>What to bring</b>"), *requirements_lines(rt, booking.service_id, tr)]
    lines += [
        "",
        _("On the day, show the QR code or say the code at the counter, or share your live "
          "location here when you are at the office. Manage your bookings with /antreanku."),
    ]
    return "\n".join(lines)


def booking_line(rt: Any, booking: QueueBooking, tr: Translator) -> str:
    _ = tr.gettext
    name = escape(service_name(rt, booking.service_id, tr.locale))
    when = short_day(tr, booking.day)
    if booking.start:
        when += ", " + slot_label(rt, booking.start)
    line = f"<code>{booking.code}</code> {name}: {when}"
    if booking.status == "closed":
        line += " " + _("(closed by the office, please move it)")
    elif booking.ticket is not None:
        line += " " + _("(number {number})").format(number=ticket_number(booking))
    return line


def ticket_text(rt: Any, booking: QueueBooking, ahead: int, tr: Translator) -> str:
    _ = tr.gettext
    lines = [
        _("🎫 Your queue number: <b>{number}</b>").format(number=ticket_number(booking)),
        _("Service: {service}").format(
            service=escape(service_name(rt, booking.service_id, tr.locale))
        ),
        tr.ngettext("{count} person is ahead of you.", "{count} people are ahead of you.",
                    ahead).format(count=ahead),
        _("Stay nearby: I will tell you here when it is almost your turn and when you are "
          "called."),
    ]
    return "\n".join(lines)


def near_text(booking: QueueBooking, ahead: int, tr: Translator) -> str:
    return tr.ngettext(
        "⏳ {count} person left before you (number {number}). Please get ready.",
        "⏳ {count} people left before you (number {number}). Please get ready.",
        ahead,
    ).format(count=ahead, number=ticket_number(booking))


def called_text(booking: QueueBooking, tr: Translator) -> str:
    return tr.gettext("📢 Number <b>{number}</b>: please go to Counter {counter}.").format(
        number=ticket_number(booking), counter=escape(booking.counter or "-")
    )


def skipped_text(rt: Any, booking: QueueBooking, tr: Translator, *, may_return: bool) -> str:
    _ = tr.gettext
    text = _("You were called to Counter {counter} but did not come in time, so your number "
             "{number} was skipped.").format(counter=escape(booking.counter or "-"),
                                              number=ticket_number(booking))
    if may_return:
        text += "\n" + _("You can return to the queue once: press the button below when you "
                         "are at the office.")
    else:
        text += "\n" + _("Please take a new number at the information desk.")
    return text


def reminder_text(rt: Any, booking: QueueBooking, tr: Translator, *, evening: bool) -> str:
    _ = tr.gettext
    name = escape(service_name(rt, booking.service_id, tr.locale))
    slot = slot_label(rt, booking.start or "00:00")
    if evening:
        lines = [
            _("🔔 Reminder: tomorrow, {day}, {slot}, you have a visit for {service} "
              "(code <code>{code}</code>).").format(
                day=day_label(tr, booking.day), slot=slot, service=name, code=booking.code),
            "",
            _("<b>What to bring</b>"),
            *requirements_lines(rt, booking.service_id, tr),
        ]
    else:
        lines = [
            _("🔔 Today at {slot} you have a visit for {service} (code <code>{code}</code>), "
              "counter {counter}.").format(slot=slot, service=name, code=booking.code,
                                           counter=counters_label(rt, booking.service_id)),
        ]
    lines += ["", _("Cannot come? Cancel or move it in /antreanku so someone else gets the "
                    "seat.")]
    return "\n".join(lines)


def qr_png(code: str) -> bytes:
    """The booking code as a QR image (PNG), large enough to scan from a phone screen."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
