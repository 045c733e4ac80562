"""NIKs and phone numbers in a complaint as staff read it: masked everywhere
(bot/privacy/masking.py), shown whole only to the officer handling the ticket (or a supervisor or
admin over its unit) who asks for it with the "show" button, and every such request audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.complaints.access import NotAllowed, Viewer
from bot.complaints.models import Complaint, ComplaintMessage
from bot.complaints.render import render_staff_card
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.people.roles import audit, has_role
from bot.privacy.masking import has_numbers
from bot.telegram_rules.callback import CallbackData

REVEAL_PREFIX = "cs"  # cs:show:<complaint id>
REVEAL_ACTION = "show"


def may_reveal(viewer: Viewer, complaint: Complaint) -> bool:
    """The officer who took the ticket, or a supervisor or admin over its unit (one in no unit
    is over every unit). An officer who merely may handle it (the shared inbox) may not."""
    if has_role(viewer.role, "supervisor"):
        return viewer.unit is None or viewer.unit == complaint.unit
    return viewer.is_staff and complaint.assignee_id == viewer.telegram_id


def has_masked_text(session: Session, complaint: Complaint) -> bool:
    """Whether staff see something masked in the ticket: its description or the thread."""
    if has_numbers(complaint.description):
        return True
    bodies = session.exec(
        select(ComplaintMessage.body).where(ComplaintMessage.complaint_id == complaint.id)
    ).all()
    return any(has_numbers(body) for body in bodies)


def reveal_data(complaint: Complaint) -> str:
    return CallbackData(REVEAL_PREFIX, REVEAL_ACTION, complaint.id).pack()


def parse_reveal(data: str | None) -> int | None:
    """The complaint id of a "show" press; None for anything malformed or forged."""
    pressed = CallbackData.parse(data, REVEAL_PREFIX, with_id=(REVEAL_ACTION,))
    if pressed is None or pressed.action != REVEAL_ACTION or pressed.arg is not None:
        return None
    return pressed.id


def with_reveal_button(
    session: Session, complaint: Complaint, markup: dict[str, Any] | None, tr: Translator
) -> dict[str, Any] | None:
    """``markup`` (Bot API JSON) with a "show" row added when the ticket has masked text."""
    if not has_masked_text(session, complaint):
        return markup
    rows = list((markup or {}).get("inline_keyboard", []))
    rows.append([{"text": tr.gettext("👁 Show NIK and phone numbers"),
                  "callback_data": reveal_data(complaint)}])
    return {**(markup or {}), "inline_keyboard": rows}


def revealed_card(
    session: Session, rt: Runtime, complaint: Complaint, viewer: Viewer, tr: Translator
) -> str:
    """The whole ticket, nothing masked, for ``viewer``; NotAllowed unless may_reveal."""
    if not may_reveal(viewer, complaint):
        raise NotAllowed("not_your_ticket")
    return render_staff_card(session, rt, complaint, tr, with_thread=True, reveal=True)


def record_reveal(
    session: Session, complaint: Complaint, viewer: Viewer, *, channel: str = "chat"
) -> None:
    """The audit line of a reveal, written with the full text's way to the viewer: once it has
    reached their private chat, or in the transaction that makes the console's page."""
    audit(session, actor_id=viewer.telegram_id, action="complaint.revealed",
          subject=complaint.ticket, channel=channel)
