"""What an applicant needs to collect a result: the counter, the hours, the last day and what
to bring, from the knowledge base (the service's ``pickup``, else the office's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.qa.answers import hours_lines
from bot.qa.knowledge import Text, WeekHours


@dataclass(frozen=True)
class PickupPlan:
    counter: Text | None
    unit: Text | None
    floor: Text | None
    hours: WeekHours | None
    deadline: date | None  # the last day, in the office's calendar
    bring: list[Text]  # empty: the receipt only
    note: Text | None


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def pickup_plan(rt: Runtime, service: Any, ready_at: datetime) -> PickupPlan:
    """The plan for a result ready at ``ready_at`` (UTC); ``service`` may be None (a service
    taken out of the knowledge base since): then the office's plan alone."""
    kb = rt.knowledge
    office = kb.office.pickup if kb is not None else None
    own = getattr(service, "pickup", None)
    location = getattr(service, "location", None)
    days = _first(own and own.deadline_days, office and office.deadline_days)
    deadline = None
    if days is not None:
        deadline = ready_at.astimezone(rt.tz).date() + timedelta(days=days)
        if rt.calendar is not None:
            deadline = rt.calendar.next_working_day(deadline)
    return PickupPlan(
        counter=_first(own and own.counter, office and office.counter,
                       location and location.counter),
        unit=location.unit if location is not None else None,
        floor=location.floor if location is not None else None,
        hours=_first(own and own.hours, office and office.hours,
                     getattr(service, "hours", None), kb.office.opening_hours if kb else None),
        deadline=deadline,
        bring=list(_first(own and own.bring, office and office.bring) or []),
        note=_first(own and own.note, office and office.note),
    )


def pickup_lines(rt: Runtime, plan: PickupPlan, tr: Translator) -> list[str]:
    """The plan in the reader's language, HTML-escaped (the knowledge base's words)."""
    _ = tr.gettext
    loc = tr.locale
    place = ", ".join(escape(t.get(loc)) for t in (plan.counter, plan.unit, plan.floor) if t)
    lines = []
    if place:
        lines.append(_("📍 Where: {place}").format(place=place))
    if plan.hours is not None:
        lines.append(_("🕘 Pickup hours:"))
        lines += [f"  {line}" for line in hours_lines(plan.hours, tr)]
    if plan.deadline is not None:
        noon = datetime.combine(plan.deadline, time(12), tzinfo=rt.tz)
        lines.append(_("⏳ Please collect it by <b>{date}</b>.").format(
            date=tr.date(noon, rt.tz)
        ))
    lines.append(_("🧾 Bring:"))
    lines.append("• " + _("your receipt (the tracking number)"))
    lines += [f"• {escape(item.get(loc))}" for item in plan.bring]
    if plan.note is not None:
        lines.append(escape(plan.note.get(loc)))
    return lines
