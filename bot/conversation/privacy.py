"""Personal data of the conversation feature: what a citizen's chat was last about, and a
message kept for their choice."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, delete, select

from bot.conversation.models import DialogueContextRow
from bot.core.i18n import N_
from bot.privacy.registry import register_personal_data


def export_context(session: Session, telegram_id: int) -> dict[str, Any]:
    row = session.exec(
        select(DialogueContextRow).where(DialogueContextRow.chat_id == telegram_id)
    ).first()
    if row is None:
        return {}
    return {
        "service_id": row.service_id,
        "topic": row.topic,
        "variant": row.variant,
        "pending_text": row.pending_text,
        "updated_at": row.updated_at.isoformat(),
    }


def erase_context(session: Session, telegram_id: int) -> str | None:
    session.exec(delete(DialogueContextRow).where(DialogueContextRow.chat_id == telegram_id))
    return N_("What we were talking about was forgotten.")


def register() -> None:
    register_personal_data("dialogue_context", export_context, erase_context)
