"""Personal data of the unanswered-questions feature: who asked is personal, the masked
question itself is the office's material."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot.core.i18n import N_
from bot.feedback.models import ERASED_ASKER, OfficerQuestion, QuestionAsk, UnansweredQuestion
from bot.privacy.identity import Identity
from bot.privacy.registry import register_personal_data


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_questions(session: Session, telegram_id: int) -> dict[str, Any]:
    asks = session.exec(
        select(QuestionAsk).where(QuestionAsk.user_id == telegram_id).order_by(QuestionAsk.id)
    ).all()
    handed = session.exec(
        select(OfficerQuestion)
        .where(OfficerQuestion.user_id == telegram_id)
        .order_by(OfficerQuestion.id)
    ).all()
    return {
        "asked": [
            {
                "text": a.text,
                "understood": a.understood,
                "rating": a.rating,
                "asked_at": _iso(a.asked_at),
            }
            for a in asks
        ],
        "asked_an_officer": [
            {
                "text": h.text,
                "status": h.status,
                "answer": h.answer,
                "asked_at": _iso(h.asked_at),
                "answered_at": _iso(h.answered_at),
            }
            for h in handed
        ],
    }


def erase_questions(session: Session, telegram_id: int) -> str | None:
    ask_ids = list(session.exec(select(QuestionAsk.id).where(QuestionAsk.user_id == telegram_id)))
    handed = session.exec(
        select(OfficerQuestion.id).where(OfficerQuestion.user_id == telegram_id).limit(1)
    ).first()
    if not ask_ids and handed is None:
        return None
    session.exec(
        update(OfficerQuestion)
        .where(OfficerQuestion.user_id == telegram_id)
        .values(user_id=ERASED_ASKER, ask_id=None)
    )
    if ask_ids:
        session.exec(delete(QuestionAsk).where(QuestionAsk.user_id == telegram_id))
    return N_(
        "The questions you asked were unlinked from you. Those we could not answer stay in our "
        "list for improving the answers, with personal numbers and names masked; answers from "
        "an officer no longer reach you."
    )


def scrub_questions(session: Session, identity: Identity) -> None:
    """The person's questions are stored masked already; a name they gave elsewhere (on a
    complaint) or an officer's answer that names them is taken out of what stays: the
    hand-offs' exchange and the logged questions they asked."""
    handed = session.exec(
        select(OfficerQuestion).where(OfficerQuestion.user_id == identity.telegram_id)
    ).all()
    for row in handed:
        row.text = identity.redact(row.text)
        row.answer = identity.redact(row.answer) if row.answer else row.answer
        session.add(row)
    logged_ids = select(QuestionAsk.question_id).where(
        QuestionAsk.user_id == identity.telegram_id, col(QuestionAsk.question_id).is_not(None)
    )
    for logged in session.exec(
        select(UnansweredQuestion).where(col(UnansweredQuestion.id).in_(logged_ids))
    ).all():
        logged.text = identity.redact(logged.text)
        session.add(logged)


def register() -> None:
    register_personal_data("questions", export_questions, erase_questions,
                           scrub=scrub_questions)
