"""Illegal fees or abuse reported in a survey suggestion: the unit's supervisors are told at
once through the outbox (without who wrote it: survey answers stay anonymous), and the
citizen is offered a complaint by the chat side."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.conversation.intents import Intents
from bot.core.i18n import Translator
from bot.core.models import Staff, User
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.qa.matching import tokens_of

REPORTED = ("levy", "behaviour")  # what a supervisor must hear of at once
_INTENTS = Intents()


def reported_in(text: str) -> str | None:
    """'levy' or 'behaviour' when the text reports an illegal fee or an officer's abuse."""
    found = _INTENTS.complaint(tokens_of(text or ""))
    return found.category if found is not None and found.category in REPORTED else None


def supervisors_of(session: Session, unit: str | None) -> list[int]:
    """Supervisors (and staff admins) of the unit, and those over every unit."""
    query = select(Staff.telegram_id).where(col(Staff.role).in_(("supervisor", "admin")))
    if unit is not None:
        query = query.where(or_(col(Staff.unit).is_(None), Staff.unit == unit))
    return sorted(session.exec(query).all())


def alert_supervisors(
    session: Session, rt: Runtime, *, text: str, reason: str, service_id: str | None,
    unit: str | None, key: str,
) -> int:
    """Queue the alert in the caller's transaction (with the suggestion it is about); ``key``
    makes it once per suggestion. Returns how many supervisors are told."""
    service = rt.knowledge.services.get(service_id or "") if rt.knowledge else None
    told = supervisors_of(session, unit)
    for supervisor in told:
        user = session.get(User, supervisor)
        tr = Translator(user.language if user is not None else rt.settings.default_locale)
        _ = tr.gettext
        title = (_("⚠️ <b>A survey suggestion reports an illegal fee</b>") if reason == "levy"
                 else _("⚠️ <b>A survey suggestion reports an officer's behaviour</b>"))
        lines = [title]
        if service is not None:
            lines.append(_("Service: {service}").format(service=escape(service.name(tr.locale))))
        if unit:
            lines.append(_("Unit: {unit}").format(unit=escape(unit)))
        lines += ["", f"<i>{escape(text)}</i>", "",
                  _("The citizen was offered to file a complaint. Survey answers stay "
                    "anonymous.")]
        enqueue(session, chat_id=supervisor, text="\n".join(lines),
                       dedupe_key=f"{key}:{supervisor}"[:120])
    return len(told)
