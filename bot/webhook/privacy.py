"""Personal data held by the webhook machinery: flood counts and copies of recent answers."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.privacy.copies import mentioning
from bot.privacy.identity import Identity, redact_json
from bot.privacy.registry import register_personal_data
from bot.webhook.flood import FloodCount
from bot.webhook.store import answers_about, erase_webhook_answers, export_webhook_answers


def export_flood_counts(session: Session, telegram_id: int) -> dict[str, object]:
    rows = session.exec(select(FloodCount).where(FloodCount.user_id == telegram_id)).all()
    return {"messages_counted_last_minutes": sum(row.count for row in rows)}


def erase_flood_counts(session: Session, telegram_id: int) -> None:
    # Transient (two minutes at most) and not worth a line in the citizen's report.
    session.exec(delete(FloodCount).where(FloodCount.user_id == telegram_id))


def scrub_webhook_answers(session: Session, identity: Identity) -> None:
    """Answers to others that mention the person (an officer's view of their complaint, kept
    two days for a redelivery), rewritten without them. Answers to the person themselves are
    erased."""
    for row in answers_about(session, lambda column: mentioning(column, identity),
                             identity.telegram_id):
        answer = redact_json(identity, row.answer)
        if answer != row.answer:
            row.answer = answer  # type: ignore[assignment]
            session.add(row)


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("flood_control", export_flood_counts, erase_flood_counts)
    register_personal_data("recent_answers", export_webhook_answers, erase_webhook_answers,
                           scrub=scrub_webhook_answers)
