"""Inviting a citizen to the survey: after a completed application (once), or on demand, at
allowed hours (quiet hours) with a reminder and an expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.applications.models import Application, ApplicationFollower
from bot.core.config import Settings
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.core.timewindows import QuietHours
from bot.surveys.models import (
    ORIGIN_APPLICATION,
    ORIGIN_ON_DEMAND,
    SCHEDULED,
    SENT,
    SurveyInvitation,
    SurveyResponse,
)
from bot.surveys.questionnaire import service_unit


@dataclass(frozen=True)
class Schedule:
    """The timing settings of invitations, from Settings."""

    delay: timedelta = timedelta(hours=2)
    reminder_after: timedelta | None = timedelta(hours=24)
    expires_after: timedelta = timedelta(days=7)
    quiet: QuietHours | None = None

    def allowed(self, moment: datetime) -> datetime:
        return self.quiet.next_allowed(moment) if self.quiet else moment


def schedule_from_settings(settings: Settings) -> Schedule:
    return Schedule(
        delay=timedelta(minutes=settings.survey_delay_minutes),
        reminder_after=(
            timedelta(hours=settings.survey_reminder_hours)
            if settings.survey_reminder_hours
            else None
        ),
        expires_after=timedelta(days=settings.survey_expiry_days),
        quiet=QuietHours.parse(settings.quiet_hours, settings.tz),
    )


# --- invitations -----------------------------------------------------------------------------


class SurveyError(Exception):
    """A survey action that cannot happen; ``reason`` is a short machine word."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def application_key(application_id: int) -> str:
    return f"application:{application_id}"


def on_demand_key(user_id: int, service_id: str, moment: datetime, tz: ZoneInfo) -> str:
    # One on-demand survey per citizen, service and month: enough for an honest opinion,
    # not enough to stuff the index.
    return f"on-demand:{user_id}:{service_id}:{moment.astimezone(tz):%Y-%m}"


def invite(
    session: Session,
    *,
    transaction_key: str,
    user_id: int,
    service_id: str,
    unit: str | None,
    due_at: datetime,
    origin: str = ORIGIN_APPLICATION,
    application_id: int | None = None,
    status: str = SCHEDULED,
) -> SurveyInvitation:
    """The invitation of a transaction, created once: a second call returns the first one."""
    existing = session.exec(
        select(SurveyInvitation).where(SurveyInvitation.transaction_key == transaction_key)
    ).first()
    if existing is not None:
        return existing
    row = SurveyInvitation(
        transaction_key=transaction_key,
        origin=origin,
        application_id=application_id,
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        status=status,
        due_at=due_at,
        next_at=due_at if status == SCHEDULED else None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process created it between our look and our insert.
        return session.exec(
            select(SurveyInvitation).where(SurveyInvitation.transaction_key == transaction_key)
        ).one()
    return row


def schedule_after_completion(
    session: Session,
    *,
    application_id: int,
    user_id: int,
    service_id: str,
    unit: str | None,
    completed_at: datetime,
    schedule: Schedule,
) -> SurveyInvitation:
    """Invite the citizen of a completed application after the delay, out of quiet hours."""
    return invite(
        session,
        transaction_key=application_key(application_id),
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        due_at=schedule.allowed(completed_at + schedule.delay),
        application_id=application_id,
    )


def invite_for_application(
    session: Session, rt: Runtime, application: Application
) -> SurveyInvitation | None:
    """Subscribed to ``rt.events.application_completed``: invite the citizen who follows the
    application on Telegram (the first to follow, if several), once."""
    user_id = session.exec(
        select(ApplicationFollower.user_id)
        .where(ApplicationFollower.application_id == application.id)
        .order_by(ApplicationFollower.since, ApplicationFollower.user_id)
    ).first()
    if user_id is None:
        return None  # nobody follows it in the chat: nobody to ask
    return schedule_after_completion(
        session,
        application_id=application.id,
        user_id=user_id,
        service_id=application.service_id,
        unit=service_unit(rt, application.service_id),
        completed_at=application.closed_at or utcnow(),
        schedule=schedule_from_settings(rt.settings),
    )


def start_on_demand(
    session: Session,
    *,
    user_id: int,
    service_id: str,
    unit: str | None,
    now: datetime,
    tz: ZoneInfo,
    expires_after: timedelta = timedelta(days=7),
) -> SurveyInvitation:
    """A survey the citizen asked for: no message to schedule, it starts at once."""
    invitation = invite(
        session,
        transaction_key=on_demand_key(user_id, service_id, now, tz),
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        due_at=now,
        origin=ORIGIN_ON_DEMAND,
        status=SENT,
    )
    if invitation.sent_at is None:
        invitation.sent_at = now
        invitation.expires_at = now + expires_after
        invitation.next_at = invitation.expires_at
        session.add(invitation)
    return invitation


def owned_invitation(session: Session, invitation_id: int, user_id: int) -> SurveyInvitation:
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.user_id != user_id:
        # Someone else's invitation id (or a forged one) looks exactly like a missing one.
        raise SurveyError("not_found")
    return invitation


def response_of(session: Session, invitation_id: int) -> SurveyResponse | None:
    return session.exec(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id)
    ).first()
