"""Personal data of the application-status feature: export, erasure and retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from bot.applications.models import (
    Application,
    ApplicationFollower,
    ApplicationMessage,
    LookupFailure,
)
from bot.core.i18n import N_
from bot.privacy.registry import register_personal_data, register_retention

# What an applicant's name becomes once the retention period is over.
ANONYMISED_NAME = "-"


def export_follows(session: Session, telegram_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(ApplicationFollower, Application)
        .join(Application, Application.id == ApplicationFollower.application_id)
        .where(ApplicationFollower.user_id == telegram_id)
        .order_by(Application.id)
    ).all()
    failures = session.exec(
        select(LookupFailure.at).where(LookupFailure.user_id == telegram_id)
    ).all()
    # The applicant's name and phone are not exported: the follower holds the receipt, but
    # the application may be a relative's.
    messages = session.exec(
        select(ApplicationMessage, Application.tracking_number)
        .join(Application, Application.id == ApplicationMessage.application_id)
        .where(ApplicationMessage.citizen_id == telegram_id)
        .order_by(ApplicationMessage.at, ApplicationMessage.id)
    ).all()
    return {
        "messages_with_the_office": [
            {
                "tracking_number": tracking_number,
                "direction": message.direction,
                "text": message.text,
                "attachment": message.attachment,
                "at": message.at.isoformat(),
            }
            for message, tracking_number in messages
        ],
        "following": [
            {
                "tracking_number": application.tracking_number,
                "service": application.service_id,
                "status": application.status,
                "since": follower.since.isoformat(),
            }
            for follower, application in rows
        ],
        "wrong_code_attempts": [moment.isoformat() for moment in failures],
    }


def erase_follows(session: Session, telegram_id: int) -> str | None:
    followed = session.exec(
        delete(ApplicationFollower).where(ApplicationFollower.user_id == telegram_id)
    ).rowcount
    session.exec(delete(LookupFailure).where(LookupFailure.user_id == telegram_id))
    # The applicant's messages about an application and the answers to them: the office's
    # record of the application is its history, not this conversation.
    written = session.exec(
        delete(ApplicationMessage).where(ApplicationMessage.citizen_id == telegram_id)
    ).rowcount
    if not followed and not written:
        return None
    return N_(
        "You no longer follow any application. The applications themselves stay with the "
        "office, which must keep the record of its services."
    )


def anonymise_old_applications(session: Session, cutoff: datetime) -> int:
    """Blank the applicant's name and phone of applications closed before ``cutoff``, and
    forget who followed them and what was written about them; the tracking number, service
    and history stay for statistics."""
    old = select(Application.id).where(
        Application.closed_at.is_not(None),
        Application.closed_at < cutoff,
        Application.applicant_name != ANONYMISED_NAME,
    )
    ids = list(session.exec(old).all())
    if not ids:
        return 0
    session.exec(
        update(Application)
        .where(Application.id.in_(ids))
        .values(applicant_name=ANONYMISED_NAME, phone=None)
    )
    session.exec(delete(ApplicationFollower).where(ApplicationFollower.application_id.in_(ids)))
    session.exec(delete(ApplicationMessage).where(ApplicationMessage.application_id.in_(ids)))
    session.exec(delete(LookupFailure).where(LookupFailure.at < cutoff))
    return len(ids)


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("applications", export_follows, erase_follows)
    register_retention("applications", anonymise_old_applications)
