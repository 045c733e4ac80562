"""The notice a follower gets when an application changes status (queued in the outbox), saying
what to do next: where, when and with what to collect a result, or how to send what is missing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.applications.models import Application, ApplicationFollower
from bot.applications.pickup import pickup_lines, pickup_plan
from bot.applications.replies import office_contact, reply_button
from bot.applications.statuses import (
    FINAL_STATUSES,
    NEEDS_CORRECTION,
    READY_FOR_PICKUP,
    ServiceSteps,
)
from bot.core.i18n import Translator
from bot.core.models import User, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue

# What officers type for "no note" when a form insists on one.
EMPTY_NOTES = frozenset({"-", "--", "—", "–", "."})


def meaningful_note(note: str | None) -> str | None:
    """The note as the applicant should see it; None for a blank or a placeholder ("-")."""
    note = (note or "").strip()
    return None if not note or note in EMPTY_NOTES else note


def _followers(session: Session, application_id: int) -> list[tuple[int, str | None]]:
    return list(
        session.exec(
            select(ApplicationFollower.user_id, User.language)
            .join(User, User.telegram_id == ApplicationFollower.user_id, isouter=True)
            .where(ApplicationFollower.application_id == application_id)
            .order_by(ApplicationFollower.since, ApplicationFollower.user_id)
        ).all()
    )


def follower_languages(session: Session, rt: Runtime, application_id: int) -> Counter[str]:
    """How many followers read each language: what the officer writes a note for."""
    return Counter(
        language or rt.settings.default_locale
        for _, language in _followers(session, application_id)
    )


def notify_followers(
    session: Session,
    rt: Runtime,
    application: Application,
    *,
    note: str | None,
    steps: Any,
    now: datetime | None = None,
) -> None:
    service = rt.knowledge.services.get(application.service_id)
    can_reply = (
        application.status == NEEDS_CORRECTION
        and office_contact(session, rt, application) is not None
    )
    for user_id, language in _followers(session, application.id):
        tr = Translator(language or rt.settings.default_locale)
        enqueue(
            session,
            chat_id=user_id,
            text=render_change_notice(
                application, service, steps, tr, rt, note=note, now=now, can_reply=can_reply
            ),
            reply_markup=reply_button(tr, application) if can_reply else None,
        )


def render_change_notice(
    application: Application,
    service: Any,
    steps: ServiceSteps,
    tr: Translator,
    rt: Runtime,
    *,
    note: str | None,
    now: datetime | None = None,
    can_reply: bool = False,
) -> str:
    """The message a follower gets, in their language; the officer's note is escaped."""
    _ = tr.gettext
    lines = [
        _("🔔 <b>Application {number}</b> has a new status.").format(
            number=application.display_number
        ),
        escape(service.name(tr.locale)) if service is not None else escape(application.service_id),
        _("Status: <b>{status}</b>").format(status=escape(steps.label(application.status, tr))),
    ]
    note = meaningful_note(note)
    if note:
        lines.append(_("Note from the officer: {note}").format(note=escape(note)))
    if application.status == READY_FOR_PICKUP:
        lines += ["", _("<b>Your result is ready.</b>")]
        lines += pickup_lines(rt, pickup_plan(rt, service, now or utcnow()), tr)
    elif application.status == NEEDS_CORRECTION:
        lines.append("")
        lines.append(
            _("Send what is missing with the button below (a message, a photo or a file), or "
              "bring it to the counter.")
            if can_reply
            else _("Please bring what is missing to the counter.")
        )
    elif application.status not in FINAL_STATUSES:
        lines.append(
            _("Due date: {date}").format(date=tr.date(application.due_at, rt.settings.tz))
        )
    return "\n".join(lines)
