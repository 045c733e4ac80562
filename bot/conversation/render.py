"""The replies of the conversation feature as Telegram HTML and button rows (label, data);
the handler turns the rows into a keyboard. No Telegram here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.conversation.library import Library, Situation
from bot.conversation.understanding import Part, Understander
from bot.core.i18n import N_, Translator
from bot.core.text import escape
from bot.core.workdays import WorkingCalendar
from bot.qa.answers import TOPIC_TITLES, render_topic
from bot.qa.knowledge import Fee, KnowledgeBase, Service
from bot.telegram_rules.callback import CallbackData
from bot.telegram_rules.limits import TEXT_LIMIT

Row = list[tuple[str, str]]  # one row of buttons: (label, callback data)
NEXT_TOPICS = ("requirements", "fee", "duration", "location", "procedure")
MENU_BUTTON = N_("☰ Main menu")
REPLY_ROOM = TEXT_LIMIT - 200  # room for the joining lines of several answers


@dataclass
class Reply:
    html: str
    rows: list[Row] = field(default_factory=list)
    venue: dict | None = None


def menu_row(tr: Translator) -> Row:
    return [(tr.gettext(MENU_BUTTON), CallbackData("cv", "menu").pack())]


def _topic_button(tr: Translator, service: Service, topic: str) -> tuple[str, str]:
    return (tr.gettext(TOPIC_TITLES[topic]),
            CallbackData("svc", "topic", arg=f"{service.id}:{topic}").pack())


def render_parts(
    kb: KnowledgeBase, understander: Understander, parts: list[Part], tr: Translator,
    tz: ZoneInfo,
) -> Reply:
    """Every part answered in one message, within Telegram's limit (a part that would not fit
    becomes a button), with the next steps for the service as buttons."""
    blocks: list[str] = []
    venue = None
    rows: list[Row] = []
    left_out: list[Part] = []
    for part in parts:
        service = kb.services[part.service_id]
        html, extra_rows, part_venue = _render_part(kb, understander, service, part, tr, tz)
        if blocks and sum(len(b) for b in blocks) + len(html) > REPLY_ROOM:
            left_out.append(part)
            continue
        blocks.append(html[:REPLY_ROOM])
        rows += extra_rows
        venue = venue or part_venue
    first = kb.services[parts[0].service_id]
    answered = {p.topic for p in parts if p.service_id == first.id and p not in left_out}
    buttons = [_topic_button(tr, kb.services[p.service_id], p.topic) for p in left_out]
    buttons += [_topic_button(tr, first, t) for t in NEXT_TOPICS if t not in answered]
    buttons = buttons[:4]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)] + rows
    rows.append(menu_row(tr))
    return Reply("\n\n".join(blocks), rows, venue)


def _render_part(
    kb: KnowledgeBase, understander: Understander, service: Service, part: Part,
    tr: Translator, tz: ZoneInfo,
) -> tuple[str, list[Row], dict | None]:
    _ = tr.gettext
    if part.topic == "requirements":
        chosen = understander.requirement_pick(service.id, part.variant)
        if chosen is not None:
            return requirement_group(service, chosen, tr)
    if part.topic == "fee":
        chosen = understander.fee_picks(service.id, part.variant)
        if chosen:
            title = f"<b>{escape(service.name(tr.locale))}</b> · {escape(_(TOPIC_TITLES['fee']))}"
            lines = [title, "", *_fee_variant_lines(service.fee, chosen, tr)]
            all_fees = CallbackData("svc", "topic", arg=f"{service.id}:fee").pack()
            return "\n".join(lines), [[(_("💰 All fees"), all_fees)]], None
    answer = render_topic(kb, service, part.topic, tr, tz)
    if part.topic == "procedure" and part.variant:
        # "KTP hilang, gimana caranya?": the steps, then what this case needs.
        chosen = understander.requirement_pick(service.id, part.variant)
        if chosen is not None:
            needs, rows, _venue = requirement_group(service, chosen, tr)
            return answer.html + "\n\n" + needs, rows, answer.venue
    return answer.html, [], answer.venue


def requirement_group(service: Service, index: int, tr: Translator) -> tuple[str, list[Row],
                                                                               None]:
    """One case's requirements, the other cases one button away."""
    _ = tr.gettext
    loc = tr.locale
    group = service.requirements[index]
    lines = [f"<b>{escape(service.name(loc))}</b> · {escape(_(TOPIC_TITLES['requirements']))}"]
    if group.label:
        lines.append(f"<i>{escape(group.label.get(loc))}</i>")
    lines.append("")
    lines += [f"• {escape(item.get(loc))}" for item in group.items]
    rows = [
        [("📄 " + (other.label.get(loc) if other.label else other.variant or str(n)),
          CallbackData("cv", "req", arg=f"{service.id}:{n}").pack())]
        for n, other in enumerate(service.requirements) if n != index
    ][:3]
    return "\n".join(lines), rows, None


def _fee_variant_lines(fee: Fee, indexes: list[int], tr: Translator) -> list[str]:
    """The fee lines asked about (one, or those the question fits equally well), with the
    note and legal basis the full list carries."""
    _ = tr.gettext
    lines = []
    for index in indexes:
        if index == 0:
            label, amount = fee.label, fee.amount or 0
        else:
            variant = fee.variants[index - 1]
            label, amount = variant.label, variant.amount
        money = _("free") if amount == 0 else tr.money(amount)
        name = escape(label.get(tr.locale)) if label else _("Fee")
        lines.append(f"{name}: <b>{money}</b>" if len(indexes) == 1
                     else f"• {name}: <b>{money}</b>")
    if fee.note:
        lines += ["", escape(fee.note.get(tr.locale))]
    if fee.legal_basis:
        basis = escape(fee.legal_basis.get(tr.locale))
        lines += ["", _("Legal basis: {basis}").format(basis=basis)]
    return [*lines, "", _("Pay only the official fee, and ask for a receipt.")]


# --- life events, entries --------------------------------------------------------------------


def render_situation(kb: KnowledgeBase, situation: Situation, tr: Translator) -> Reply:
    """The steps in order (with each service's counter), what to bring once, the notes."""
    _ = tr.gettext
    loc = tr.locale
    lines = [f"<b>{escape(situation.name.get(loc))}</b>"]
    if situation.intro:
        lines += ["", escape(situation.intro.get(loc))]
    lines.append("")
    for n, step in enumerate(situation.steps, 1):
        service = kb.services[step.service]
        place = service.location.counter.get(loc) if service.location.counter else None
        head = f"{n}. <b>{escape(service.name(loc))}</b>"
        if place:
            head += f" ({escape(place)})"
        lines.append(head)
        if step.note:
            lines.append(f"   {escape(step.note.get(loc))}")
    bring = [t.get(loc) for t in situation.bring] or _requirements_once(kb, situation, loc)
    lines += ["", _("<b>Bring (once for all of them)</b>")]
    lines += [f"• {escape(item)}" for item in bring]
    if situation.notes:
        lines.append("")
        lines += [f"ℹ️ {escape(note.get(loc))}" for note in situation.notes]
    rows = [[(kb.services[s.service].name(loc), CallbackData("svc", "card", arg=s.service).pack())]
            for s in situation.steps]
    return Reply("\n".join(lines)[:REPLY_ROOM], [*rows, menu_row(tr)])


def _requirements_once(kb: KnowledgeBase, situation: Situation, loc: str) -> list[str]:
    seen: dict[str, str] = {}
    for step in situation.steps:
        service = kb.services[step.service]
        groups = [g for g in service.requirements if g.variant == step.variant] if step.variant \
            else service.requirements[:1]
        for group in groups:
            for item in group.items:
                seen.setdefault(" ".join(item.get(loc).lower().split()), item.get(loc))
    return list(seen.values())


def render_entry(library: Library, entry_id: str, tr: Translator) -> Reply:
    entry = library.entries[entry_id]
    loc = tr.locale
    html = f"<b>{escape(entry.question.get(loc))}</b>\n\n{escape(entry.answer.get(loc))}"
    return Reply(html, [menu_row(tr)])


# --- is the office open ------------------------------------------------------------------------


def render_open_day(
    kb: KnowledgeBase, calendar: WorkingCalendar, day: date, service: Service | None,
    tr: Translator, now: datetime,
) -> Reply:
    """A direct yes or no for the day asked, and today's hours."""
    _ = tr.gettext
    loc = tr.locale
    tz = calendar.tz
    local_now = now.astimezone(tz)
    hours = (service.hours if service and service.hours else None) or kb.office.opening_hours
    place = escape(service.name(loc)) if service and service.hours else escape(kb.office.name)

    def ranges_on(d: date) -> str | None:
        if calendar.holiday_name(d) is not None or d in kb.office.closed_dates:
            return None
        found = hours.on(d.weekday())
        return ", ".join(str(r) for r in found) if found else None

    def day_name(d: date) -> str:
        return escape(format_date(d, "EEEE, d MMMM", locale="id_ID" if loc == "id" else "en"))

    lines = []
    asked = ranges_on(day)
    when = _("today") if day == local_now.date() else _("on {day}").format(day=day_name(day))
    if asked:
        lines.append(_("<b>Yes</b>, {place} is open {when}: {hours}.").format(
            place=place, when=when, hours=escape(asked)))
    else:
        reason = _closure_reason(kb, calendar, day, tr)
        if reason:
            when += f" ({escape(reason)})"
        lines.append(_("<b>No</b>, {place} is closed {when}.").format(place=place, when=when))
        following = day
        for _step in range(14):
            following = following.fromordinal(following.toordinal() + 1)
            if ranges_on(following):
                lines.append(_("Open again on {day}: {hours}.").format(
                    day=day_name(following), hours=escape(ranges_on(following) or "")))
                break
    if day != local_now.date():
        today = ranges_on(local_now.date())
        lines.append(_("Today: {hours}.").format(hours=escape(today)) if today
                     else _("Today: closed."))
    elif asked:
        last = hours.on(day.weekday())[-1].end
        if local_now.time() >= last:
            lines.append(_("Service has ended for today."))
        elif local_now.time() < hours.on(day.weekday())[0].start:
            lines.append(_("Not open yet; opens at {time}.").format(
                time=hours.on(day.weekday())[0].start.strftime("%H:%M")))
    if hours.note:
        lines.append(escape(hours.note.get(loc)))
    return Reply("\n".join(lines), [menu_row(tr)])


def _closure_reason(kb: KnowledgeBase, calendar: WorkingCalendar, day: date,
                    tr: Translator) -> str | None:
    for closure in kb.office.closures:
        if closure.date == day:
            return closure.reason.get(tr.locale)
    name = calendar.holiday_name(day)
    if name and name != "closed":
        return name
    return None

