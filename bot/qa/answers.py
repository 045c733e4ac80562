"""Renders a matched (service, topic) as a Telegram HTML answer in the user's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.core.i18n import N_, Translator
from bot.core.text import escape
from bot.qa.knowledge import (
    OFFICE_ID,
    Duration,
    DurationVariant,
    Fee,
    KnowledgeBase,
    Service,
    WeekHours,
)
from bot.qa.matching import Match

# Topic titles, shown in answers and on the service card's buttons.
TOPIC_TITLES: dict[str, str] = {
    "requirements": N_("Requirements"),
    "procedure": N_("Procedure"),
    "fee": N_("Fee"),
    "duration": N_("Time to complete"),
    "location": N_("Location"),
    "hours": N_("Service hours"),
    "product": N_("What you receive"),
    "overview": N_("Overview"),
}
UPCOMING_CLOSURE_DAYS = 60  # how far ahead the hours answer lists the office's own closures


@dataclass
class Answer:
    html: str
    venue: dict | None = None  # latitude, longitude, title, address: sent as a map pin
    suggestions: list[str] = field(default_factory=list)  # service ids, when abstaining


def render_answer(
    kb: KnowledgeBase, match: Match, tr: Translator, tz: ZoneInfo, *, now: datetime | None = None
) -> Answer:
    """The answer a citizen reads for ``match``: a topic of a service, the office, or a kind
    'I don't know' with the closest services. ``now`` dates the upcoming closures."""
    if match.service_id == OFFICE_ID:
        return _office_answer(kb, match.topic or "overview", tr, tz, now)
    service = kb.services.get(match.service_id or "")
    if service is None:
        return _abstain(kb, match, tr)
    return render_topic(kb, service, match.topic or "overview", tr, tz, now=now)


def render_topic(
    kb: KnowledgeBase, service: Service, topic: str, tr: Translator, tz: ZoneInfo,
    *, now: datetime | None = None,
) -> Answer:
    _ = tr.gettext
    loc = tr.locale
    title = f"<b>{escape(service.name(loc))}</b>"
    if topic != "overview":
        title += f" · {escape(_(TOPIC_TITLES[topic]))}"
    lines = [title, ""]
    venue = None
    if topic == "requirements":
        lines += _requirements(service, loc)
    elif topic == "procedure":
        lines += [f"{n}. {escape(step.get(loc))}" for n, step in enumerate(service.procedure, 1)]
    elif topic == "fee":
        lines += fee_lines(service.fee, tr)
    elif topic == "duration":
        lines += duration_lines(service.duration, tr)
    elif topic == "location":
        lines += location_lines(kb, service, tr)
        lines += ["", _("<b>Service hours</b>")]
        lines += hours_lines(service.hours or kb.office.opening_hours, tr)
        venue = service_venue(kb, service, loc)
    elif topic == "hours":
        lines += hours_lines(service.hours or kb.office.opening_hours, tr)
        lines += _closures(kb, tr, tz, now)
    elif topic == "product":
        lines.append(escape(service.product.get(loc)))
    else:
        lines += _overview(kb, service, tr)
    return Answer("\n".join(lines).rstrip(), venue=venue)


# --- pieces ------------------------------------------------------------------------------------


def _requirements(service: Service, loc: str) -> list[str]:
    lines: list[str] = []
    for group in service.requirements:
        if group.label:
            if lines:
                lines.append("")
            lines.append(f"<i>{escape(group.label.get(loc))}</i>")
        lines += [f"• {escape(item.get(loc))}" for item in group.items]
    return lines


def fee_lines(fee: Fee, tr: Translator) -> list[str]:
    """Fee in whole rupiah with its variants and legal basis; 'free' says why it is free."""
    _ = tr.gettext
    loc = tr.locale
    lines: list[str] = []
    basis = escape(fee.legal_basis.get(loc)) if fee.legal_basis else None
    if fee.free:
        lines.append(_("<b>Free of charge.</b>"))
        if basis:
            lines.append(_("Legal basis: {basis}").format(basis=basis))
        if fee.note:
            lines.append(escape(fee.note.get(loc)))
        return lines
    if fee.amount is not None:
        amount = _money(fee.amount, tr)
        if fee.label:
            lines.append(f"• {escape(fee.label.get(loc))}: <b>{amount}</b>")
        else:
            lines.append(_("Fee: {amount}").format(amount=f"<b>{amount}</b>"))
    for variant in fee.variants:
        lines.append(f"• {escape(variant.label.get(loc))}: <b>{_money(variant.amount, tr)}</b>")
    for paragraph in (
        escape(fee.note.get(loc)) if fee.note else None,
        _("Legal basis: {basis}").format(basis=basis) if basis else None,
        _("Pay only the official fee, and ask for a receipt."),
    ):
        if paragraph:
            lines += ["", paragraph] if lines else [paragraph]
    return lines


def _money(amount: int, tr: Translator) -> str:
    return tr.gettext("free") if amount == 0 else tr.money(amount)


def duration_text(duration: Duration | DurationVariant, tr: Translator) -> str:
    n = duration.amount
    if duration.unit == "working_days":
        return tr.ngettext("{n} working day", "{n} working days", n).format(n=n)
    if duration.unit == "days":
        return tr.ngettext("{n} calendar day", "{n} calendar days", n).format(n=n)
    return tr.ngettext("{n} hour", "{n} hours", n).format(n=n)


def duration_lines(duration: Duration, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = [_("Completed within {duration}.").format(
        duration=f"<b>{escape(duration_text(duration, tr))}</b>"
    )]
    if duration.unit == "working_days":
        lines.append(_("Working days are Monday to Friday, except public holidays and joint "
                       "leave days."))
    if duration.note:
        lines.append(escape(duration.note.get(tr.locale)))
    if duration.variants:
        lines.append("")
    for variant in duration.variants:
        parts = [] if variant.amount is None else [f"<b>{escape(duration_text(variant, tr))}</b>"]
        if variant.note:
            parts.append(escape(variant.note.get(tr.locale)))
        lines.append(f"• {escape(variant.label.get(tr.locale))}: {'. '.join(parts)}")
    return lines


def location_lines(kb: KnowledgeBase, service: Service, tr: Translator) -> list[str]:
    _ = tr.gettext
    loc = tr.locale
    place = service.location
    lines = [f"🏢 {escape(place.unit.get(loc))}"]
    if place.counter:
        lines.append(f"🪧 {escape(place.counter.get(loc))}")
    if place.floor:
        lines.append(f"⬆️ {escape(place.floor.get(loc))}")
    if place.lat is None:
        lines.append(f"📍 {escape(kb.office.name)}, {escape(kb.office.address)}")
    return lines


def service_venue(kb: KnowledgeBase, service: Service, loc: str) -> dict:
    """The map pin: the service's own when it has one (a hospital), else the office's."""
    place = service.location
    if place.lat is not None and place.lon is not None:
        return {"latitude": place.lat, "longitude": place.lon,
                "title": place.unit.get(loc), "address": kb.office.address}
    return office_venue(kb)


def office_venue(kb: KnowledgeBase) -> dict:
    office = kb.office
    return {"latitude": office.lat, "longitude": office.lon, "title": office.name,
            "address": office.address}


def hours_lines(hours: WeekHours, tr: Translator) -> list[str]:
    """Opening hours per weekday, consecutive days with the same hours on one line."""
    _ = tr.gettext
    names = get_day_names("wide", locale="id_ID" if tr.locale == "id" else "en")
    rows: list[tuple[int, int, str]] = []
    for day in range(7):
        ranges = hours.on(day)
        text = ", ".join(str(r) for r in ranges) if ranges else _("closed")
        if rows and rows[-1][2] == text:
            rows[-1] = (rows[-1][0], day, text)
        else:
            rows.append((day, day, text))
    lines = []
    for first, last, text in rows:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        lines.append(f"{escape(days)}: {escape(text)}")
    if hours.note:
        lines.append(escape(hours.note.get(tr.locale)))
    return lines


def _closures(kb: KnowledgeBase, tr: Translator, tz: ZoneInfo, now: datetime | None) -> list[str]:
    _ = tr.gettext
    today = (now or datetime.now(tz)).astimezone(tz).date()
    upcoming = [c for c in kb.office.closures
                if 0 <= (c.date - today).days <= UPCOMING_CLOSURE_DAYS]
    lines = ["", _("Closed on public holidays and joint leave days (cuti bersama).")]
    for closure in sorted(upcoming, key=lambda c: c.date):
        day = tr.date(datetime.combine(closure.date, datetime.min.time(), tz), tz)
        lines.append(_("Also closed on {date}: {reason}").format(
            date=escape(day), reason=escape(closure.reason.get(tr.locale))))
    return lines


def _overview(kb: KnowledgeBase, service: Service, tr: Translator) -> list[str]:
    _ = tr.gettext
    loc = tr.locale
    fee = service.fee
    if fee.free:
        fee_text = _("free of charge")
    elif fee.amount is not None:
        fee_text = tr.money(fee.amount) + (_(" (other variants apply)") if fee.variants else "")
    else:
        fee_text = _("depends; ask about the fee")
    place = service.location
    where = ", ".join(
        escape(part.get(loc)) for part in (place.unit, place.counter, place.floor) if part
    )
    return [
        escape(service.description.get(loc)),
        "",
        _("💰 Fee: {fee}").format(fee=escape(fee_text)),
        _("⏱ Time: {duration}").format(duration=escape(
            duration_text(service.duration, tr)
            + (_(" (not for every case)") if service.duration.variants else "")
        )),
        _("📄 You receive: {product}").format(product=escape(service.product.get(loc))),
        _("📍 Where: {place}").format(place=where),
        "",
        _("Ask me about its requirements, procedure, fee, time, location or hours."),
    ]


def _office_answer(
    kb: KnowledgeBase, topic: str, tr: Translator, tz: ZoneInfo, now: datetime | None
) -> Answer:
    _ = tr.gettext
    office = kb.office
    lines = [f"<b>{escape(office.name)}</b>", ""]
    venue = None
    if topic in ("location", "overview"):
        lines.append(f"📍 {escape(office.address)}")
        venue = office_venue(kb) if topic == "location" else None
        lines += ["", _("<b>Opening hours</b>")]
    lines += hours_lines(office.opening_hours, tr)
    if topic in ("hours", "overview"):
        lines += _closures(kb, tr, tz, now)
    if topic == "overview" and office.contacts:
        lines += ["", _("<b>Contacts</b>")]
        lines += [f"{escape(c.label.get(tr.locale))}: {escape(c.value)}" for c in office.contacts]
    return Answer("\n".join(lines), venue=venue)


def _abstain(kb: KnowledgeBase, match: Match, tr: Translator) -> Answer:
    _ = tr.gettext
    suggestions = [s for s in match.suggestions if s in kb.services]
    lines = [_("Sorry, I am not sure what you are asking about.")]
    if suggestions:
        lines += ["", _("Did you mean one of these services?")]
        lines += [f"• {escape(kb.services[s].name(tr.locale))}" for s in suggestions]
    else:
        lines += ["", _("Try naming the service and what you want to know, for example "
                        "<i>biaya paspor</i> or <i>syarat KTP</i>, or browse the services "
                        "from the menu.")]
    return Answer("\n".join(lines), suggestions=suggestions)


