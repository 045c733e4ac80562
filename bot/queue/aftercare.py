"""After the counter: the visit leads on to the satisfaction survey, as other transactions do,
and (where the office tracks applications) to registering the application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.queue.models import QueueBooking

ORIGIN_QUEUE = "queue"


def survey_key(booking_id: int) -> str:
    return f"queue:{booking_id}"


def after_service(session: Session, rt: Any, booking: QueueBooking, now: datetime) -> None:
    """Schedule the survey invitation of a served visit, after the survey delay and out of
    quiet hours (bot/surveys.py sends it). A walk-in without Telegram has nobody to ask."""
    if booking.user_id is None:
        return
    try:
        from bot import surveys
    except ImportError:  # the survey feature is not part of this installation
        return
    schedule = surveys.schedule_from_settings(rt.settings)
    surveys.invite(
        session,
        transaction_key=survey_key(booking.id),
        origin=ORIGIN_QUEUE,
        user_id=booking.user_id,
        service_id=booking.service_id,
        unit=surveys.service_unit(rt, booking.service_id),
        due_at=schedule.allowed(now + schedule.delay),
    )
