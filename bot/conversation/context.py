"""What the dialogue is about, per chat, kept in the database so any instance can continue it.

A follow-up ("biayanya?", "kalau hilang?", "and for a passport?") is read against the service,
topic and variant the bot last answered about in that chat. The context is forgotten after
CONTEXT_TTL of silence, and cleared by /start, /batal and the flows (a complaint, a survey).
It can also hold one message waiting for the citizen's choice (file it as a complaint, or use
it as the answer to an open flow's step), so the choice works on any instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import delete

from bot.conversation.models import DialogueContextRow
from bot.core.db import Database
from bot.core.models import utcnow

CONTEXT_TTL = timedelta(minutes=30)
PENDING_MAX = 600  # characters of a message kept for a choice (questions are cut at 500)


@dataclass(frozen=True)
class DialogueContext:
    """The service (and its topic and variant words) the last answer in a chat was about."""

    service_id: str | None = None
    topic: str | None = None
    variant: tuple[str, ...] = ()
    pending_kind: str | None = None  # "complaint" | "flow"
    pending_text: str | None = None

    @property
    def empty(self) -> bool:
        return self.service_id is None and self.pending_kind is None


def load_context(db: Database, chat_id: int, *, now: datetime | None = None) -> DialogueContext:
    """The chat's live context; an expired one reads as empty (and is left for the next save)."""
    now = now or utcnow()
    with db.session() as session:
        row = session.get(DialogueContextRow, chat_id)
        if row is None or now - row.updated_at > CONTEXT_TTL:
            return DialogueContext()
        return DialogueContext(
            service_id=row.service_id,
            topic=row.topic,
            variant=tuple((row.variant or "").split()),
            pending_kind=row.pending_kind,
            pending_text=row.pending_text,
        )


def save_context(
    db: Database, chat_id: int, context: DialogueContext, *, now: datetime | None = None
) -> None:
    """Replace the chat's context. Two instances saving at once: the later write wins."""
    values: dict[str, Any] = {
        "service_id": context.service_id,
        "topic": context.topic,
        "variant": " ".join(context.variant)[:120] or None,
        "pending_kind": context.pending_kind,
        "pending_text": (context.pending_text or "")[:PENDING_MAX] or None,
        "updated_at": now or utcnow(),
    }
    for attempt in range(2):
        try:
            with db.session() as session:
                row = session.get(DialogueContextRow, chat_id)
                if row is None:
                    row = DialogueContextRow(chat_id=chat_id)
                for name, value in values.items():
                    setattr(row, name, value)
                session.add(row)
            return
        except IntegrityError:
            if attempt:  # the other instance's row is there now; the second try updates it
                raise


def clear_context(db: Database, chat_id: int) -> None:
    with db.session() as session:
        session.exec(delete(DialogueContextRow).where(DialogueContextRow.chat_id == chat_id))
