"""Who may do what: roles come from the staff table and ADMIN_IDS, never from user input."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from bot.core.models import AuditEntry, Staff

_RANK = {"citizen": 0, "officer": 1, "supervisor": 2, "admin": 3}


def role_of(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> str:
    """'admin', 'supervisor', 'officer' or 'citizen'."""
    if telegram_id in set(admin_ids):
        return "admin"
    staff = session.get(Staff, telegram_id)
    return staff.role if staff is not None else "citizen"


def has_role(role: str, required: str) -> bool:
    """A supervisor can do what an officer can; an admin can do everything."""
    return _RANK.get(role, 0) >= _RANK[required]


def audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject: str | None = None,
    api_token: str | None = None,
    **detail: Any,
) -> None:
    """One line of the audit trail: ``actor_id`` the person, or ``api_token`` the name of the
    back-office API token the change came with (bot/api_tokens)."""
    session.add(
        AuditEntry(
            actor_id=actor_id, api_token=api_token, action=action, subject=subject, detail=detail
        )
    )
