"""Registering, finding and moving applications along; every change is audited, and its notices
are queued in the same transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.applications.errors import IllegalMove, InvalidInput, NotFound
from bot.applications.models import Application, ApplicationEvent
from bot.applications.notices import meaningful_note, notify_followers
from bot.applications.phones import normalize_phone
from bot.applications.statuses import (
    COMPLETED,
    FINAL_STATUSES,
    NOTE_REQUIRED,
    RECEIVED,
    STATUSES,
    ServiceSteps,
)
from bot.applications.tracking import (
    format_tracking_number,
    new_tracking_number,
    new_verification_code,
    normalize_tracking_number,
)
from bot.core.i18n import N_
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.core.runtime import Runtime
from bot.people.roles import audit

# --- registering and finding --------------------------------------------------------------------


def _service(rt: Runtime, service_id: str) -> Any:
    service = rt.knowledge.services.get(service_id) if rt.knowledge is not None else None
    if service is None:
        raise InvalidInput(N_("Unknown service: {service}."), service=service_id)
    return service


def register_application(
    session: Session,
    rt: Runtime,
    *,
    service_id: str,
    applicant_name: str,
    phone: str | None = None,
    actor_id: int | None,
    source: str = "telegram",
    api_token: str | None = None,
    now: datetime | None = None,
) -> Application:
    """A new application, received now, due by the service's standard duration. ``api_token``:
    the name of the back-office API token it came with, the actor in the audit trail."""
    now = now or utcnow()
    service = _service(rt, service_id)
    name = clean_name(applicant_name)
    if not 2 <= len(name) <= 200:
        raise InvalidInput(N_("The applicant's name must be 2 to 200 characters."))
    phone = clean_phone(phone)
    due = rt.calendar.due_at(now, service.duration.amount, service.duration.unit)
    # A clash with an existing number is a one-in-billions event: draw again. (No savepoint
    # and retry on the unique constraint: with pysqlite a savepoint opened first in a session
    # commits on release, which would split this unit of work.)
    tracking_number = new_tracking_number()
    while session.exec(
        select(Application.id).where(Application.tracking_number == tracking_number)
    ).first() is not None:
        tracking_number = new_tracking_number()
    application = Application(
        tracking_number=tracking_number,
        service_id=service_id,
        applicant_name=name,
        phone=phone,
        verification_code=new_verification_code(),
        status=RECEIVED,
        received_at=now,
        due_at=due,
        updated_at=now,
        registered_by=actor_id,
    )
    session.add(application)
    session.flush()
    session.add(
        ApplicationEvent(
            application_id=application.id, status=RECEIVED, actor_id=actor_id, source=source, at=now
        )
    )
    audit(
        session,
        actor_id=actor_id,
        api_token=api_token,
        action="application.register",
        subject=application.tracking_number,
        service=service_id,
        source=source,
    )
    return application


def clean_phone(phone: str | None) -> str | None:
    """The phone number in one form (+62...); None when left out ("" or "-")."""
    if phone is None or not phone.strip() or phone.strip() == "-":
        return None
    normalised = normalize_phone(phone)
    if normalised is None:
        raise InvalidInput(N_("The phone number should be 6 to 15 digits, e.g. 081234567890."))
    return normalised


def get_application(session: Session, tracking_text: str, *, lock: bool = False) -> Application:
    tracking_number = normalize_tracking_number(tracking_text)
    if tracking_number is None:
        raise NotFound(
            N_("{number} is not a valid tracking number."), number=tracking_text.strip()[:30]
        )
    query = select(Application).where(Application.tracking_number == tracking_number)
    if lock:
        query = query.with_for_update()
    application = session.exec(query).first()
    if application is None:
        raise NotFound(
            N_("No application has the tracking number {number}."),
            number=format_tracking_number(tracking_number),
        )
    return application


def find_applications(
    session: Session, query: str, *, limit: int = 10, actor_id: int | None = None
) -> list[Application]:
    """By tracking number, or else by part of the applicant's name (newest first).

    Searching applicants' personal data is an officer action: audited when ``actor_id`` is given.
    """
    if actor_id is not None:
        audit(session, actor_id=actor_id, action="application.find", subject=query.strip()[:120])
    tracking_number = normalize_tracking_number(query)
    if tracking_number is not None:
        found = session.exec(
            select(Application).where(Application.tracking_number == tracking_number)
        ).all()
        if found:
            return list(found)
    words = query.strip()
    if len(words) < 2:
        return []
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        session.exec(
            select(Application)
            .where(func.lower(Application.applicant_name).like(pattern, escape="\\"))
            .order_by(Application.received_at.desc())
            .limit(limit)
        ).all()
    )


def overdue_applications(
    session: Session,
    *,
    now: datetime | None = None,
    limit: int = 50,
    services: Collection[str] | None = None,
) -> list[Application]:
    """Unfinished applications past their due date, the longest overdue first; only those of
    ``services`` when given (a unit's)."""
    now = now or utcnow()
    query = select(Application).where(
        Application.status.not_in(FINAL_STATUSES), Application.due_at < now
    )
    if services is not None:
        query = query.where(col(Application.service_id).in_(sorted(services)))
    return list(
        session.exec(query.order_by(Application.due_at, Application.id).limit(limit)).all()
    )


def history(session: Session, application: Application) -> list[ApplicationEvent]:
    return list(
        session.exec(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.at, ApplicationEvent.id)
        ).all()
    )


# --- moving an application along ---------------------------------------------------------------


def change_status(
    session: Session,
    rt: Runtime,
    *,
    tracking_number: str,
    status: str,
    note: str | None = None,
    actor_id: int | None,
    source: str = "telegram",
    api_token: str | None = None,
    now: datetime | None = None,
) -> Application:
    """Move an application to ``status``: history, audit and one message per follower, all in
    the caller's transaction. Raises IllegalMove (with the reason) when the move is not allowed.
    ``api_token``: as for register_application.
    """
    now = now or utcnow()
    note = meaningful_note(note)  # "-" typed to fill a form is no note
    if note is not None and len(note) > 1000:
        raise InvalidInput(N_("The note is too long (at most 1,000 characters)."))
    if status not in STATUSES:
        raise InvalidInput(
            N_("Unknown status {status}. Use one of: {statuses}."),
            status=status,
            statuses=", ".join(STATUSES),
        )
    application = get_application(session, tracking_number, lock=True)
    steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
    current = application.status
    if current in FINAL_STATUSES:
        raise IllegalMove(
            N_("Application {number} is already {current}; it cannot change any more."),
            number=application.display_number,
            current=current,
        )
    if status == current:
        raise IllegalMove(
            N_("Application {number} is already {current}."),
            number=application.display_number,
            current=current,
        )
    if status in steps.omitted:
        raise IllegalMove(
            N_("This service does not use the step {status}."), status=status
        )
    if status not in steps.next_steps(current):
        raise IllegalMove(
            N_("An application cannot go from {current} to {new}. Allowed next: {allowed}."),
            current=current,
            new=status,
            allowed=steps.next_steps(current),
        )
    if status in NOTE_REQUIRED and note is None:
        raise IllegalMove(
            N_("A note is required for {status}: tell the applicant what is missing or why."),
            status=status,
        )
    application.status = status
    application.updated_at = now
    if status in FINAL_STATUSES:
        application.closed_at = now
    session.add(application)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            status=status,
            note=note,
            actor_id=actor_id,
            source=source,
            at=now,
        )
    )
    audit(
        session,
        actor_id=actor_id,
        api_token=api_token,
        action="application.status",
        subject=application.tracking_number,
        before=current,
        after=status,
        note=note,
        source=source,
    )
    notify_followers(session, rt, application, note=note, steps=steps, now=now)
    if status == COMPLETED:
        # Other features follow through the runtime's events (the survey invites the citizen).
        for subscriber in rt.events.application_completed:
            subscriber(session, rt, application)
    return application
