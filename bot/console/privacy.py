"""Personal data of the console: a citizen's opt-out from follow-up notices, and a staff
member's console sign-ins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.console.models import ConsoleLoginLink, ConsoleSession, FollowUpOptOut
from bot.core.i18n import N_
from bot.privacy.registry import register_personal_data


def export_console(session: Session, telegram_id: int) -> dict[str, Any]:
    opt_out = session.get(FollowUpOptOut, telegram_id)
    signed_in = session.exec(
        select(ConsoleSession).where(ConsoleSession.staff_id == telegram_id)
    ).all()
    return {
        "follow_up_notices_stopped_at": opt_out.at.isoformat() if opt_out else None,
        "console_sign_ins": [
            {"at": s.created_at.isoformat(), "until": s.expires_at.isoformat(),
             "signed_out": s.revoked_at.isoformat() if s.revoked_at else None}
            for s in signed_in
        ],
    }


def erase_console(session: Session, telegram_id: int) -> str | None:
    had_opt_out = session.get(FollowUpOptOut, telegram_id) is not None
    session.exec(delete(FollowUpOptOut).where(FollowUpOptOut.user_id == telegram_id))
    session.exec(delete(ConsoleSession).where(ConsoleSession.staff_id == telegram_id))
    session.exec(delete(ConsoleLoginLink).where(ConsoleLoginLink.staff_id == telegram_id))
    if not had_opt_out:
        return None
    return N_(
        "Your choice not to hear about the office's follow-up actions was deleted with the rest; "
        "you would hear of them again only after a new survey."
    )


def register() -> None:
    register_personal_data("console", export_console, erase_console)
