"""The notice a follower gets when an application changes status (queued in the outbox)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.applications.models import Application, ApplicationFollower
from bot.applications.statuses import FINAL_STATUSES, READY_FOR_PICKUP, ServiceSteps
from bot.core.i18n import Translator
from bot.core.models import User
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue


def notify_followers(
    session: Session, rt: Runtime, application: Application, *, note: str | None, steps: Any
) -> None:
    rows = session.exec(
        select(ApplicationFollower.user_id, User.language)
        .join(User, User.telegram_id == ApplicationFollower.user_id, isouter=True)
        .where(ApplicationFollower.application_id == application.id)
    ).all()
    service = rt.knowledge.services.get(application.service_id)
    for user_id, language in rows:
        tr = Translator(language or rt.settings.default_locale)
        enqueue(
            session,
            chat_id=user_id,
            text=render_change_notice(application, service, steps, tr, rt, note=note),
        )


def render_change_notice(
    application: Application,
    service: Any,
    steps: ServiceSteps,
    tr: Translator,
    rt: Runtime,
    *,
    note: str | None,
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
    if note:
        lines.append(_("Note from the officer: {note}").format(note=escape(note)))
    if application.status == READY_FOR_PICKUP:
        lines.append(
            _("Please bring your receipt (tracking number) and your original identity card.")
        )
    elif application.status not in FINAL_STATUSES:
        lines.append(
            _("Due date: {date}").format(date=tr.date(application.due_at, rt.settings.tz))
        )
    return "\n".join(lines)
