"""After the counter: the visit leads on to the satisfaction survey, as other transactions do,
and (where the office tracks applications) to registering the application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.i18n import N_
from bot.queue.models import QueueBooking

ORIGIN_QUEUE = "queue"


def survey_key(booking_id: int) -> str:
    return f"queue:{booking_id}"


def after_service(session: Session, rt: Any, booking: QueueBooking, now: datetime) -> None:
    """Schedule the survey invitation of a served visit, after the survey delay and out of
    quiet hours (bot/surveys/ sends it). A walk-in without Telegram has nobody to ask."""
    if booking.user_id is None:
        return
    try:
        from bot.surveys.invitations import invite, schedule_from_settings
        from bot.surveys.questionnaire import service_unit
    except ImportError:  # the survey feature is not part of this installation
        return
    schedule = schedule_from_settings(rt.settings)
    invite(
        session,
        transaction_key=survey_key(booking.id),
        origin=ORIGIN_QUEUE,
        user_id=booking.user_id,
        service_id=booking.service_id,
        unit=service_unit(rt, booking.service_id),
        due_at=schedule.allowed(now + schedule.delay),
    )


def register_from_visit(
    session: Session, rt: Any, *, booking_id: int, officer_id: int, applicant_name: str,
    now: datetime,
) -> Any:
    """Register the application a served visit handed in (the officer types the applicant's
    name), with the citizen following it: they hear of every status change, and its completion
    invites the survey as for any application, so the visit's own invitation is withdrawn.
    Raises bot.applications.ApplicationError for a bad name; QueueError when the visit is not
    this officer's served one."""
    from sqlalchemy import delete

    from bot.applications.lookup import follow
    from bot.applications.service import register_application
    from bot.queue.models import DONE
    from bot.queue.service import QueueError
    from bot.surveys.models import SCHEDULED, SurveyInvitation

    booking = session.get(QueueBooking, booking_id, with_for_update=True)
    if booking is None or booking.called_by != officer_id or booking.status != DONE:
        raise QueueError(N_("This button is no longer valid. Please start again from the menu."))
    if booking.application_id is not None:
        raise QueueError(N_("An application was already registered for this visit."))
    application = register_application(
        session, rt, service_id=booking.service_id, applicant_name=applicant_name,
        actor_id=officer_id, source="queue", now=now,
    )
    booking.application_id = application.id
    session.add(booking)
    if booking.user_id is not None:
        follow(session, application=application, user_id=booking.user_id, now=now)
        session.exec(
            delete(SurveyInvitation).where(
                SurveyInvitation.transaction_key == survey_key(booking.id),
                SurveyInvitation.status == SCHEDULED,
            )
        )
    return application
