"""Personal data of the satisfaction surveys: answers stay in the index, unlinked from people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from bot.core.i18n import N_
from bot.privacy.identity import Identity
from bot.privacy.registry import register_personal_data, register_retention
from bot.surveys.models import SurveyInvitation, SurveyResponse

# Telegram user ids are positive: 0 marks an invitation whose person has been forgotten.
ANONYMOUS = 0
ELEMENTS = [f"u{n}" for n in range(1, 17)]


def export_surveys(session: Session, telegram_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(SurveyInvitation, SurveyResponse)
        .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id, isouter=True)
        .where(SurveyInvitation.user_id == telegram_id)
        .order_by(SurveyInvitation.id)
    ).all()
    items = []
    for invitation, response in rows:
        item: dict[str, Any] = {
            "service": invitation.service_id,
            "status": invitation.status,
            "sent_at": invitation.sent_at.isoformat() if invitation.sent_at else None,
        }
        if response is not None:
            item["answers"] = {
                code.upper(): getattr(response, code)
                for code in ELEMENTS
                if getattr(response, code) is not None
            }
            item["suggestion"] = response.suggestion
            item["profile"] = {
                "age_group": response.age_group,
                "sex": response.sex,
                "education": response.education,
                "occupation": response.occupation,
            }
        items.append(item)
    return {"items": items}


def _forget(session: Session, invitation_ids: list[int]) -> None:
    """Completed answers stay for the index with no link to anyone; unanswered invitations and
    unfinished answers go."""
    if not invitation_ids:
        return
    completed = set(
        session.exec(
            select(SurveyResponse.invitation_id).where(
                SurveyResponse.invitation_id.in_(invitation_ids),
                SurveyResponse.completed_at.is_not(None),
            )
        ).all()
    )
    unfinished = [i for i in invitation_ids if i not in completed]
    if unfinished:
        session.exec(delete(SurveyResponse).where(SurveyResponse.invitation_id.in_(unfinished)))
        session.exec(delete(SurveyInvitation).where(SurveyInvitation.id.in_(unfinished)))
    if completed:
        session.exec(
            update(SurveyInvitation)
            .where(SurveyInvitation.id.in_(completed))
            .values(user_id=ANONYMOUS, application_id=None)
        )


def erase_surveys(session: Session, telegram_id: int) -> str | None:
    ids = list(
        session.exec(
            select(SurveyInvitation.id).where(SurveyInvitation.user_id == telegram_id)
        ).all()
    )
    if not ids:
        return None
    _forget(session, ids)
    return N_(
        "Your survey answers stay in the satisfaction index, no longer linked to you; "
        "invitations not yet answered were deleted."
    )


def anonymise_old_surveys(session: Session, cutoff: datetime) -> int:
    ids = list(
        session.exec(
            select(SurveyInvitation.id).where(
                SurveyInvitation.created_at < cutoff,
                SurveyInvitation.user_id != ANONYMOUS,
            )
        ).all()
    )
    _forget(session, ids)
    return len(ids)


def scrub_surveys(session: Session, identity: Identity) -> None:
    """A suggestion that stays in the index (a completed answer) without the person's name or
    numbers in it."""
    responses = session.exec(
        select(SurveyResponse)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.user_id == identity.telegram_id,
               SurveyResponse.suggestion.is_not(None))
    ).all()
    for response in responses:
        response.suggestion = identity.redact(response.suggestion)
        session.add(response)


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("surveys", export_surveys, erase_surveys, scrub=scrub_surveys)
    register_retention("surveys", anonymise_old_surveys)
