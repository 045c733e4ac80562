"""Citizens looking up and following an application, with a lockout against guessing."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.applications.errors import InvalidInput, LookupLocked, LookupRefused
from bot.applications.models import Application, ApplicationFollower, LookupFailure
from bot.applications.tracking import normalize_tracking_number
from bot.core.i18n import N_
from bot.core.models import utcnow

# --- citizens looking up and following ---------------------------------------------------------

LOCKOUT_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)


def locked_until(session: Session, *, user_id: int, now: datetime | None = None) -> datetime | None:
    """When this user's lockout ends, if they are locked out now.

    A lockout starts at the fifth wrong attempt within 15 minutes and lasts 15 minutes; attempts
    made while locked are not recorded, so waiting it out is enough.
    """
    now = now or utcnow()
    times = list(
        session.exec(
            select(LookupFailure.at)
            .where(
                LookupFailure.user_id == user_id,
                LookupFailure.at > now - LOCKOUT_WINDOW - LOCKOUT_DURATION,
            )
            .order_by(LookupFailure.at)
        ).all()
    )
    for i in range(len(times) - LOCKOUT_ATTEMPTS + 1):
        first, fifth = times[i], times[i + LOCKOUT_ATTEMPTS - 1]
        if fifth - first <= LOCKOUT_WINDOW and now < fifth + LOCKOUT_DURATION:
            return fifth + LOCKOUT_DURATION
    return None


def lookup(
    session: Session,
    *,
    user_id: int,
    tracking_text: str,
    code: str,
    now: datetime | None = None,
) -> Application:
    """The application a citizen holds the receipt for.

    A wrong code and an unknown number get the same answer (LookupRefused) and both count
    toward the lockout, so nobody can learn whether a number exists. A number that fails its
    check character is refused as mistyped without counting: that reveals nothing. A wrong
    attempt commits the session (call this first in a unit of work).
    """
    now = now or utcnow()
    until = locked_until(session, user_id=user_id, now=now)
    if until is not None:
        raise LookupLocked(until)
    tracking_number = normalize_tracking_number(tracking_text)
    if tracking_number is None:
        raise InvalidInput(
            N_("That does not look like a tracking number. It has 8 characters, e.g. K7QM-3XPA.")
        )
    application = session.exec(
        select(Application).where(Application.tracking_number == tracking_number)
    ).first()
    expected = application.verification_code if application is not None else "-"
    if application is None or not hmac.compare_digest(expected.encode(), code.strip().encode()):
        session.add(LookupFailure(user_id=user_id, at=now))
        # Committed here: the refusal below makes the caller's block roll back, and the attempt
        # must count all the same.
        session.commit()
        until = locked_until(session, user_id=user_id, now=now)
        if until is not None:
            raise LookupLocked(until)
        raise LookupRefused(
            N_("The tracking number or the verification code is not correct. Check your receipt.")
        )
    return application


def follow(
    session: Session, *, application: Application, user_id: int, now: datetime | None = None
) -> bool:
    """Start sending this user the application's changes; False when they already follow it."""
    if session.get(ApplicationFollower, (application.id, user_id)) is not None:
        return False
    session.add(
        ApplicationFollower(application_id=application.id, user_id=user_id, since=now or utcnow())
    )
    return True


def unfollow(session: Session, *, application_id: int, user_id: int) -> bool:
    row = session.get(ApplicationFollower, (application_id, user_id))
    if row is None:
        return False
    session.delete(row)
    return True


def is_follower(session: Session, *, application_id: int, user_id: int) -> bool:
    return session.get(ApplicationFollower, (application_id, user_id)) is not None


def follower_count(session: Session, application_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ApplicationFollower)
        .where(ApplicationFollower.application_id == application_id)
    ).one()


def followed_by(session: Session, user_id: int) -> list[Application]:
    return list(
        session.exec(
            select(Application)
            .join(ApplicationFollower, ApplicationFollower.application_id == Application.id)
            .where(ApplicationFollower.user_id == user_id)
            .order_by(Application.received_at.desc())
        ).all()
    )
