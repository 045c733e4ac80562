"""Personal data of complaints: the content stays as the office's record, the identity goes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from bot.complaints.models import ERASED_COMPLAINANT as ANONYMOUS
from bot.complaints.models import Complaint, ComplaintEvidence, ComplaintMessage
from bot.core.i18n import N_
from bot.privacy.identity import Identity
from bot.privacy.registry import register_personal_data, register_retention


def export_complaints(session: Session, telegram_id: int) -> dict[str, Any]:
    complaints = session.exec(
        select(Complaint).where(Complaint.complainant_id == telegram_id).order_by(Complaint.id)
    ).all()
    items = []
    for complaint in complaints:
        thread = session.exec(
            select(ComplaintMessage)
            .where(ComplaintMessage.complaint_id == complaint.id)
            .order_by(ComplaintMessage.id)
        ).all()
        evidence = session.exec(
            select(ComplaintEvidence.kind).where(ComplaintEvidence.complaint_id == complaint.id)
        ).all()
        items.append(
            {
                "ticket": complaint.ticket,
                "name_given": complaint.complainant_name,
                "privacy": complaint.privacy,
                "category": complaint.category,
                "service": complaint.service_id,
                "description": complaint.description,
                "occurred_on": complaint.occurred_on.isoformat() if complaint.occurred_on else None,
                "place": complaint.place,
                "location": None
                if complaint.latitude is None
                else {"latitude": complaint.latitude, "longitude": complaint.longitude},
                "status": complaint.status,
                "received_at": complaint.received_at.isoformat(),
                "answer": complaint.answer,
                "rating": complaint.rating,
                "thread": [
                    {"from": m.author_kind, "text": m.body, "at": m.at.isoformat()}
                    for m in thread
                ],
                "evidence": list(evidence),
            }
        )
    return {"items": items}


def _unlink(session: Session, complaint_ids: list[int]) -> None:
    if not complaint_ids:
        return
    session.exec(
        update(Complaint)
        .where(Complaint.id.in_(complaint_ids))
        .values(complainant_id=ANONYMOUS, complainant_name=None)
    )
    session.exec(
        update(ComplaintMessage)
        .where(
            ComplaintMessage.complaint_id.in_(complaint_ids),
            ComplaintMessage.author_kind == "complainant",
        )
        .values(author_id=ANONYMOUS)
    )


def erase_complaints(session: Session, telegram_id: int) -> str | None:
    ids = list(
        session.exec(select(Complaint.id).where(Complaint.complainant_id == telegram_id)).all()
    )
    if not ids:
        return None
    _unlink(session, ids)
    return N_(
        "Your complaints stay with the office as its record, without your name or any link to "
        "you; you will get no more news about them."
    )


def _own(session: Session, telegram_id: int) -> list[Complaint]:
    return list(
        session.exec(select(Complaint).where(Complaint.complainant_id == telegram_id)).all()
    )


def collect_complaints(session: Session, identity: Identity) -> None:
    """The names given on the person's complaints, the numbers written in them, and their
    tickets (a message about a complaint carries its ticket, not the person's id)."""
    for complaint in _own(session, identity.telegram_id):
        identity.add_name(complaint.complainant_name)
        identity.add_marker(complaint.ticket)
        identity.add_numbers_from(complaint.description)
        for body in session.exec(
            select(ComplaintMessage.body).where(
                ComplaintMessage.complaint_id == complaint.id,
                ComplaintMessage.author_kind == "complainant",
            )
        ).all():
            identity.add_numbers_from(body)


def scrub_complaints(session: Session, identity: Identity) -> None:
    """The complaints stay as the office's record, their texts without the person: no name,
    NIK or phone number in the description, the answer, a rejection or the thread."""
    for complaint in _own(session, identity.telegram_id):
        complaint.description = identity.redact(complaint.description)
        if complaint.answer:
            complaint.answer = identity.redact(complaint.answer)
        if complaint.reject_reason:
            complaint.reject_reason = identity.redact(complaint.reject_reason)
        session.add(complaint)
        for message in session.exec(
            select(ComplaintMessage).where(ComplaintMessage.complaint_id == complaint.id)
        ).all():
            message.body = identity.redact(message.body)
            session.add(message)


def anonymise_old_complaints(session: Session, cutoff: datetime) -> int:
    ids = list(
        session.exec(
            select(Complaint.id).where(
                Complaint.closed_at.is_not(None),
                Complaint.closed_at < cutoff,
                Complaint.complainant_id != ANONYMOUS,
            )
        ).all()
    )
    _unlink(session, ids)
    return len(ids)


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("complaints", export_complaints, erase_complaints,
                           collect=collect_complaints, scrub=scrub_complaints)
    register_retention("complaints", anonymise_old_complaints)
