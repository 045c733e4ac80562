"""Time limits: which stages of a complaint are overdue, and the bounds of local office days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.complaints.models import (
    Complaint,
)
from bot.complaints.vocabulary import (
    OPEN_STATUSES,
    RECEIVED,
    STAGE_RESOLVE,
    STAGE_RESPONSE,
    STAGE_VERIFY,
)
from bot.core.runtime import Runtime

# --- time limits, escalation, silent closing --------------------------------------------------


def overdue_stages(complaint: Complaint, now: datetime) -> list[str]:
    """The deadlines this ticket has missed and still owes."""
    stages: list[str] = []
    if complaint.status == RECEIVED and now > complaint.verify_due:
        stages.append(STAGE_VERIFY)
    if complaint.status in OPEN_STATUSES:
        if complaint.first_response_at is None and now > complaint.response_due:
            stages.append(STAGE_RESPONSE)
        if now > complaint.resolve_due:
            stages.append(STAGE_RESOLVE)
    return stages


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """overdue_stages(...) != [] as SQL."""
    is_open = col(Complaint.status).in_(OPEN_STATUSES)
    return or_(
        and_(Complaint.status == RECEIVED, Complaint.verify_due < now),
        and_(is_open, col(Complaint.first_response_at).is_(None), Complaint.response_due < now),
        and_(is_open, Complaint.resolve_due < now),
    )


def stage_due(complaint: Complaint, stage: str) -> datetime:
    return {
        STAGE_VERIFY: complaint.verify_due,
        STAGE_RESPONSE: complaint.response_due,
        STAGE_RESOLVE: complaint.resolve_due,
    }[stage]


def local_days_bounds(rt: Runtime, start: date, end: date) -> tuple[datetime, datetime]:
    """Local days start..end inclusive, as a UTC half-open interval."""
    low = datetime.combine(start, time(0), tzinfo=rt.tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=rt.tz).astimezone(UTC)
    return low, high
