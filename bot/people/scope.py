"""Whose figures a staff member's reports cover: a unit's, or the whole office's.

Admins, and staff in no unit, see the whole office; everyone else in a unit (a supervisor of
unit A above all) sees that unit's complaints, satisfaction index, queue figures, overdue
applications and unanswered questions only. Role and unit come from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlmodel import Session

from bot.core.models import Staff
from bot.people.roles import role_of


@dataclass(frozen=True)
class ReportScope:
    role: str
    unit: str | None = None  # None: the whole office

    @property
    def office_wide(self) -> bool:
        return self.unit is None

    def services(
        self, service_ids: Iterable[str], unit_of: Callable[[str], str | None]
    ) -> frozenset[str] | None:
        """The services whose figures are in scope; None: all of them."""
        if self.unit is None:
            return None
        return frozenset(s for s in service_ids if unit_of(s) == self.unit)


def report_scope(
    session: Session, telegram_id: int, admin_ids: Iterable[int] = ()
) -> ReportScope:
    role = role_of(session, telegram_id, admin_ids)
    if role == "admin":
        return ReportScope(role)
    staff = session.get(Staff, telegram_id)
    return ReportScope(role, staff.unit if staff is not None else None)
