"""Escalation of overdue complaints to their officers and supervisors, and closing a resolved
complaint the complainant left silent (both run by jobs, both only queue messages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from bot.complaints.deadlines import overdue_clause, overdue_stages, stage_due
from bot.complaints.handling import walk_path
from bot.complaints.models import (
    Complaint,
)
from bot.complaints.notify import enqueue_long, notify_complainant
from bot.complaints.post import refresh_post
from bot.complaints.queries import supervisors_for, user_locale
from bot.complaints.render import render_staff_card, staff_buttons
from bot.complaints.vocabulary import CLOSED, RESOLVED, STAGE_LABELS
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.outbox.models import OutboxMessage
from bot.people.roles import audit


def escalate_overdue(session: Session, rt: Runtime, now: datetime | None = None) -> int:
    """Remind the assignee and tell the supervisors about every missed deadline, once each
    (the outbox's dedupe keys make a second run queue nothing). Returns messages queued."""
    now = now or utcnow()
    queued = 0
    overdue = session.exec(
        select(Complaint)
        .where(overdue_clause(now))
        .order_by(col(Complaint.priority), col(Complaint.id))
    ).all()
    for complaint in overdue:
        for stage in overdue_stages(complaint, now):
            # A reopened ticket's deadlines count again: the round is part of the key.
            base = f"cmp:{complaint.id}:{complaint.reopen_count}:{stage}"
            due = stage_due(complaint, stage)
            if complaint.assignee_id is not None:
                queued += _queue_once(
                    session,
                    f"{base}:remind:{complaint.assignee_id}",
                    lambda key, c=complaint, s=stage, d=due: _remind(session, rt, c, s, d, key),
                )
            recipients = supervisors_for(session, complaint)
            if not recipients and rt.settings.complaints_chat_id is not None:
                recipients = [rt.settings.complaints_chat_id]
            for chat_id in recipients:
                queued += _queue_once(
                    session,
                    f"{base}:escalate:{chat_id}",
                    lambda key, c=complaint, s=stage, d=due, to=chat_id: _escalate(
                        session, rt, c, s, d, to, key
                    ),
                )
    return queued


def _queue_once(session: Session, key: str, queue: Callable[[str], None]) -> int:
    # Checked first so rendering is skipped on every later run; enqueue's key is the guarantee.
    exists = session.exec(
        select(OutboxMessage.id).where(col(OutboxMessage.dedupe_key).startswith(key + ":"))
    ).first()
    if exists is not None:
        return 0
    queue(key)
    audit(session, actor_id=None, action="complaint.escalated", subject=key)
    return 1


def _remind(
    session: Session, rt: Runtime, complaint: Complaint, stage: str, due: datetime, key: str
) -> None:
    tr = Translator(user_locale(session, rt, complaint.assignee_id))
    text = tr.gettext(
        "⏰ <b>Reminder</b>: complaint {ticket} is overdue. The {stage} was due on {date}."
    ).format(
        ticket=complaint.ticket, stage=tr.gettext(STAGE_LABELS[stage]), date=tr.date(due, rt.tz)
    )
    text += "\n" + render_staff_card(session, rt, complaint, tr)
    enqueue_long(
        session, complaint.assignee_id, text, staff_buttons(complaint, tr), dedupe_key=key
    )


def _escalate(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    stage: str,
    due: datetime,
    chat_id: int,
    key: str,
) -> None:
    locale = (
        rt.settings.default_locale
        if chat_id == rt.settings.complaints_chat_id
        else user_locale(session, rt, chat_id)
    )
    tr = Translator(locale)
    text = tr.gettext(
        "🚨 <b>Overdue complaint {ticket}</b>: the {stage} was due on {date}."
    ).format(
        ticket=complaint.ticket, stage=tr.gettext(STAGE_LABELS[stage]), date=tr.date(due, rt.tz)
    )
    text += "\n" + render_staff_card(session, rt, complaint, tr)
    enqueue_long(session, chat_id, text, staff_buttons(complaint, tr), dedupe_key=key)


def close_silent(session: Session, rt: Runtime, now: datetime | None = None) -> int:
    """Close answered tickets whose complainant said nothing for the silence period."""
    now = now or utcnow()
    due = session.exec(
        select(Complaint).where(
            Complaint.status == RESOLVED,
            col(Complaint.feedback_at).is_(None),
            Complaint.close_due < now,
        )
    ).all()
    for complaint in due:
        walk_path(complaint, [CLOSED], "close")
        complaint.closed_at = now
        complaint.updated_at = now
        session.add(complaint)
        audit(session, actor_id=None, action="complaint.closed_silent", subject=complaint.ticket)
        notify_complainant(session, rt, complaint, "closed_silent")
        refresh_post(session, rt, complaint)
    return len(due)
