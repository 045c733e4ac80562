"""Lists of complaints for officers, by status, category, overdue and assignee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.complaints.access import Viewer, handled_by_clause
from bot.complaints.deadlines import overdue_clause
from bot.complaints.models import (
    Complaint,
)
from bot.complaints.vocabulary import OPEN_STATUSES
from bot.core.models import utcnow

# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None  # a status, "open" (default) or "all"
    category: str | None = None
    overdue: bool = False
    mine: bool = False


def list_for_staff(
    session: Session,
    viewer: Viewer,
    flt: ListFilter,
    *,
    now: datetime | None = None,
    limit: int = 30,
) -> list[Complaint]:
    """The tickets this officer may handle, most urgent first."""
    now = now or utcnow()
    query = select(Complaint).where(handled_by_clause(viewer))
    status = flt.status or "open"
    if status == "open":
        query = query.where(col(Complaint.status).in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(Complaint.status == status)
    if flt.category:
        query = query.where(Complaint.category == flt.category)
    if flt.overdue:
        query = query.where(overdue_clause(now))
    if flt.mine:
        query = query.where(Complaint.assignee_id == viewer.telegram_id)
    query = query.order_by(
        col(Complaint.priority), col(Complaint.resolve_due), col(Complaint.id)
    ).limit(limit)
    return list(session.exec(query).all())


def list_for_complainant(
    session: Session, complainant_id: int, *, limit: int = 20
) -> list[Complaint]:
    return list(
        session.exec(
            select(Complaint)
            .where(Complaint.complainant_id == complainant_id)
            .order_by(col(Complaint.received_at).desc(), col(Complaint.id).desc())
            .limit(limit)
        ).all()
    )
