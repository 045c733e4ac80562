"""Personal data of the queue: a citizen's bookings are exported and erased with their other
data, and visits older than the office's retention lose the link to the person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from bot.core.i18n import N_
from bot.privacy.registry import register_personal_data, register_retention
from bot.queue.models import BOOKED, CLOSED, QueueBooking, QueueNoticeRecipient
from bot.queue.service import give_back_seat


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_bookings(session: Session, telegram_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(QueueBooking).where(QueueBooking.user_id == telegram_id).order_by(QueueBooking.id)
    ).all()
    return {
        "bookings": [
            {
                "code": b.code,
                "service": b.service_id,
                "day": b.day.isoformat(),
                "slot": b.start,
                "priority": b.priority_reason,
                "status": b.status,
                "queue_number": b.ticket,
                "booked_at": _iso(b.created_at),
                "checked_in_at": _iso(b.checked_in_at),
                "called_at": _iso(b.called_at),
                "done_at": _iso(b.done_at),
            }
            for b in rows
        ],
    }


def erase_bookings(session: Session, telegram_id: int) -> str | None:
    """Upcoming bookings are cancelled (their seats freed); past visits stay for the office's
    figures without the person: no Telegram id, no priority reason."""
    rows = session.exec(
        select(QueueBooking).where(QueueBooking.user_id == telegram_id).with_for_update()
    ).all()
    session.exec(delete(QueueNoticeRecipient).where(QueueNoticeRecipient.user_id == telegram_id))
    if not rows:
        return None
    for booking in rows:
        if booking.status in (BOOKED, CLOSED):
            give_back_seat(session, booking)
            booking.status = "cancelled"
        booking.user_id = None
        booking.priority_reason = None
        session.add(booking)
    return N_("Your queue bookings were cancelled and your name taken off past visits; the "
              "office keeps only the anonymous counts.")


def anonymise_old_bookings(session: Session, cutoff: datetime) -> int:
    """Visits booked before ``cutoff`` lose the person (the counts stay)."""
    result = session.exec(
        update(QueueBooking)
        .where(QueueBooking.created_at < cutoff, QueueBooking.user_id.is_not(None),
               QueueBooking.status.not_in((BOOKED, CLOSED)))
        .values(user_id=None, priority_reason=None)
    )
    return result.rowcount or 0


def register() -> None:
    """Called once, in order, by bot/privacy/kinds.py."""
    register_personal_data("queue", export_bookings, erase_bookings)
    register_retention("queue", anonymise_old_bookings)
