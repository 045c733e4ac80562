"""Reading what belongs to a complaint and who handles it: evidence, the message thread,
supervisors, units and assignable officers, a person's language."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.complaints.access import InvalidInput
from bot.complaints.models import (
    Complaint,
    ComplaintEvidence,
    ComplaintMessage,
)
from bot.core.models import Staff, User
from bot.core.runtime import Runtime
from bot.people.roles import audit


def evidence_of(session: Session, complaint: Complaint) -> list[ComplaintEvidence]:
    return list(
        session.exec(
            select(ComplaintEvidence)
            .where(ComplaintEvidence.complaint_id == complaint.id)
            .order_by(col(ComplaintEvidence.id))
        ).all()
    )


def thread_of(session: Session, complaint: Complaint) -> list[ComplaintMessage]:
    return list(
        session.exec(
            select(ComplaintMessage)
            .where(ComplaintMessage.complaint_id == complaint.id)
            .order_by(col(ComplaintMessage.at), col(ComplaintMessage.id))
        ).all()
    )


def supervisors_for(session: Session, complaint: Complaint) -> list[int]:
    """Supervisors (and staff admins) over this ticket: those of its unit and those with none."""
    query = select(Staff.telegram_id).where(col(Staff.role).in_(("supervisor", "admin")))
    if complaint.unit is not None:
        query = query.where(or_(col(Staff.unit).is_(None), Staff.unit == complaint.unit))
    return sorted(session.exec(query).all())


def units(session: Session) -> list[str]:
    """The units that have staff, for the assign buttons."""
    rows = session.exec(select(Staff.unit).where(col(Staff.unit).is_not(None)).distinct())
    return sorted(u for u in rows.all() if u)


UNIT_MAX = 80


def set_staff_unit(
    session: Session, *, telegram_id: int, unit: str | None, actor_id: int | None
) -> Staff:
    """Put a staff member in a unit (None: no unit). Officers handle their unit's tickets."""
    staff = session.get(Staff, telegram_id)
    if staff is None:
        raise InvalidInput("unknown_officer")
    cleaned = (unit or "").strip() or None
    if cleaned is not None and len(cleaned) > UNIT_MAX:
        raise InvalidInput("too_long", maximum=UNIT_MAX, length=len(cleaned))
    before, staff.unit = staff.unit, cleaned
    session.add(staff)
    audit(
        session,
        actor_id=actor_id,
        action="staff.unit",
        subject=str(telegram_id),
        unit=cleaned,
        before=before,
    )
    return staff


def assignable_staff(session: Session) -> list[Staff]:
    """Officers and supervisors a ticket can be given to, by unit."""
    return list(
        session.exec(
            select(Staff)
            .where(col(Staff.role).in_(("officer", "supervisor")))
            # Those of a unit first, on both databases (they sort NULL differently).
            .order_by(col(Staff.unit).is_(None), col(Staff.unit), col(Staff.telegram_id))
        ).all()
    )


def user_locale(session: Session, rt: Runtime, telegram_id: int) -> str:
    user = session.get(User, telegram_id)
    return user.language if user is not None else rt.settings.default_locale


# --- status changes ---------------------------------------------------------------------------
