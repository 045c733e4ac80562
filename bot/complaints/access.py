"""Who sees and handles which complaint, and the errors a refused action raises (each with a
reason the handlers translate)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot.complaints.models import (
    Complaint,
)
from bot.core.models import Staff
from bot.people.roles import has_role, role_of

# --- errors -----------------------------------------------------------------------------------


class ComplaintError(Exception):
    """A complaint action that cannot be done; ``code`` says why, for the handler's message."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


class InvalidInput(ComplaintError):
    """What the citizen or officer typed is not acceptable (too short, bad date, ...)."""


class IllegalMove(ComplaintError):
    """The ticket's status does not allow this action."""


class NotAllowed(ComplaintError):
    """This person may not do this to this ticket."""


class LimitReached(ComplaintError):
    """The citizen has filed the day's maximum number of complaints."""


# --- who sees what ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Someone looking at or acting on tickets, with the role and unit from the database."""

    telegram_id: int
    role: str = "citizen"
    unit: str | None = None

    @property
    def is_staff(self) -> bool:
        return has_role(self.role, "officer")

    @property
    def sees_all(self) -> bool:
        """Admins, and supervisors in no unit; a supervisor of a unit sees that unit's tickets
        (as its officers do), never another unit's (bot/people/scope.py)."""
        return self.role == "admin" or (has_role(self.role, "supervisor") and self.unit is None)


def viewer_for(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> Viewer:
    role = role_of(session, telegram_id, admin_ids)
    staff = session.get(Staff, telegram_id)
    return Viewer(telegram_id, role, staff.unit if staff is not None else None)


def can_handle(viewer: Viewer, complaint: Complaint) -> bool:
    """Officers (and supervisors) handle their unit's tickets, their own, and new ones no unit
    has yet (the shared inbox posted in the officers' group); admins and supervisors in no unit
    handle all."""
    if not viewer.is_staff:
        return False
    if viewer.sees_all:
        return True
    if complaint.assignee_id == viewer.telegram_id:
        return True
    if viewer.unit is not None and complaint.unit == viewer.unit:
        return True
    return complaint.unit is None and complaint.assignee_id is None


def can_view(viewer: Viewer, complaint: Complaint) -> bool:
    return complaint.complainant_id == viewer.telegram_id or can_handle(viewer, complaint)


def handled_by_clause(viewer: Viewer) -> ColumnElement[bool]:
    """can_handle as SQL, for lists."""
    if viewer.sees_all:
        return true()
    if not viewer.is_staff:
        return false()
    clauses: list[ColumnElement[bool]] = [
        Complaint.assignee_id == viewer.telegram_id,
        and_(col(Complaint.unit).is_(None), col(Complaint.assignee_id).is_(None)),
    ]
    if viewer.unit is not None:
        clauses.append(Complaint.unit == viewer.unit)
    return or_(*clauses)
