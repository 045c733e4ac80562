"""Personal data held by the webhook machinery: flood counts and copies of recent answers."""

from __future__ import annotations

import logging

from sqlalchemy import (
    delete,
)
from sqlmodel import Session, select

from bot.privacy.registry import register_personal_data
from bot.webhook.flood import FloodCount
from bot.webhook.store import erase_webhook_answers, export_webhook_answers

log = logging.getLogger(__name__)

def export_flood_counts(session: Session, telegram_id: int) -> dict[str, object]:
    rows = session.exec(select(FloodCount).where(FloodCount.user_id == telegram_id)).all()
    return {"messages_counted_last_minutes": sum(row.count for row in rows)}


def erase_flood_counts(session: Session, telegram_id: int) -> None:
    # Transient (two minutes at most) and not worth a line in the citizen's report.
    session.exec(delete(FloodCount).where(FloodCount.user_id == telegram_id))


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("flood_control", export_flood_counts, erase_flood_counts)
    register_personal_data("recent_answers", export_webhook_answers, erase_webhook_answers)
