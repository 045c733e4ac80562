"""Handling a complaint: verifying, assigning, taking, replying, resolving, rejecting, marking
duplicates; the complainant's additions. Every change is audited and shown on the group post;
the complainant's feedback and rating are in bot/complaints/feedback.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.complaints.access import IllegalMove, InvalidInput, NotAllowed, Viewer, can_handle
from bot.complaints.filing import Evidence, clean_message
from bot.complaints.masking import with_reveal_button
from bot.complaints.models import (
    Complaint,
    ComplaintEvidence,
    ComplaintMessage,
)
from bot.complaints.notify import (
    complainant_reachable,
    enqueue_attachments,
    enqueue_long,
    status_line,
)
from bot.complaints.post import record_change, refresh_post
from bot.complaints.queries import evidence_of, supervisors_for, units, user_locale
from bot.complaints.render import complainant_buttons, render_staff_card, staff_buttons
from bot.complaints.vocabulary import (
    ALLOWED_MOVES,
    ASSIGNED,
    DUPLICATE,
    EVIDENCE_KINDS,
    IN_PROGRESS,
    MAX_EVIDENCE,
    OPEN_STATUSES,
    RECEIVED,
    REJECTED,
    RESOLVED,
    TERMINAL_STATUSES,
    VERIFIED,
)
from bot.core.i18n import Translator
from bot.core.models import Staff, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.roles import audit
from bot.privacy.masking import mask_numbers


def walk_path(complaint: Complaint, path: Sequence[str], action: str) -> None:
    """Move along ``path``, every step an allowed edge, or change nothing at all."""
    current = complaint.status
    for target in path:
        if target not in ALLOWED_MOVES[current]:
            raise IllegalMove("illegal_move", status=complaint.status, action=action)
        current = target
    complaint.status = current


def _path_to_assigned(complaint: Complaint) -> list[str]:
    return {
        RECEIVED: [VERIFIED, ASSIGNED],
        VERIFIED: [ASSIGNED],
        ASSIGNED: [ASSIGNED],
        IN_PROGRESS: [ASSIGNED],
    }.get(complaint.status, [ASSIGNED])


def _path_to_in_progress(complaint: Complaint) -> list[str]:
    return {
        RECEIVED: [VERIFIED, ASSIGNED, IN_PROGRESS],
        VERIFIED: [ASSIGNED, IN_PROGRESS],
        ASSIGNED: [IN_PROGRESS],
        IN_PROGRESS: [],
    }.get(complaint.status, [IN_PROGRESS])


def _require_handler(viewer: Viewer, complaint: Complaint) -> None:
    if not can_handle(viewer, complaint):
        raise NotAllowed("not_your_ticket")


def _stamp(complaint: Complaint, now: datetime) -> None:
    """Mark the change's time, and the verification's time on the first move past received."""
    if complaint.status != RECEIVED and complaint.verified_at is None:
        complaint.verified_at = now
    complaint.updated_at = now


def verify(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    now: datetime | None = None,
) -> Complaint:
    """Checked: a real complaint, complete enough to handle."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    walk_path(complaint, [VERIFIED], "verify")
    _stamp(complaint, now)
    record_change(session, rt, complaint, actor, "verified")
    return complaint


def assign(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    unit: str | None = None,
    assignee_id: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Give the ticket to a unit, or to one officer (whose unit it then belongs to)."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if assignee_id is not None:
        staff = session.get(Staff, assignee_id)
        if staff is None:
            raise InvalidInput("unknown_officer")
        unit = staff.unit
    elif unit is None or unit not in units(session):
        raise InvalidInput("unknown_unit")
    walk_path(complaint, _path_to_assigned(complaint), "assign")
    complaint.unit = unit
    complaint.assignee_id = assignee_id
    complaint.assigned_at = now
    _stamp(complaint, now)
    record_change(session, rt, complaint, actor, "assigned", unit=unit, assignee=assignee_id)
    if assignee_id is not None and assignee_id != actor.telegram_id:
        locale = user_locale(session, rt, assignee_id)
        tr = Translator(locale)
        text = (
            tr.gettext("📌 Complaint {ticket} has been assigned to you.").format(
                ticket=complaint.ticket
            )
            + "\n"
            + render_staff_card(session, rt, complaint, tr)
        )
        enqueue_long(session, assignee_id, text, staff_buttons(complaint, tr))
    return complaint


def take(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    now: datetime | None = None,
) -> Complaint:
    """The officer who pressed "take" handles it. Taking a ticket someone else holds is for
    supervisors only."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if complaint.assignee_id == actor.telegram_id:
        raise IllegalMove("already_yours", status=complaint.status, action="take")
    if complaint.assignee_id is not None and not actor.sees_all:
        raise NotAllowed("taken_by_other")
    walk_path(complaint, _path_to_assigned(complaint), "take")
    complaint.assignee_id = actor.telegram_id
    complaint.unit = actor.unit if actor.unit is not None else complaint.unit
    complaint.assigned_at = now
    _stamp(complaint, now)
    record_change(
        session, rt, complaint, actor, "assigned", unit=complaint.unit, assignee=actor.telegram_id
    )
    return complaint


def _claim_for_work(complaint: Complaint, actor: Viewer, action: str, now: datetime) -> bool:
    """Move a ticket to in progress for an officer answering it; True when the status moved.
    An unassigned ticket becomes the answering officer's."""
    path = _path_to_in_progress(complaint)
    walk_path(complaint, path, action)
    if complaint.assignee_id is None:
        complaint.assignee_id = actor.telegram_id
        complaint.unit = complaint.unit or actor.unit
        complaint.assigned_at = complaint.assigned_at or now
    return bool(path)


def reply(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    body: str,
    now: datetime | None = None,
) -> ComplaintMessage:
    """An officer's answer in the ticket's thread; the first one is the first response."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(body)
    if complaint.status in TERMINAL_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="reply")
    moved = complaint.status != RESOLVED and _claim_for_work(complaint, actor, "reply", now)
    complaint.first_response_at = complaint.first_response_at or now
    _stamp(complaint, now)
    message = ComplaintMessage(
        complaint_id=complaint.id,
        author_id=actor.telegram_id,
        author_kind="officer",
        body=text,
        at=now,
    )
    session.add(message)
    audit(session, actor_id=actor.telegram_id, action="complaint.reply", subject=complaint.ticket)
    refresh_post(session, rt, complaint)
    if not complainant_reachable(complaint):
        session.flush()
        return message
    tr = Translator(user_locale(session, rt, complaint.complainant_id))
    lines = [
        tr.gettext("💬 <b>Reply from the office on {ticket}</b>").format(ticket=complaint.ticket),
        "",
        escape(text),
    ]
    if moved:
        lines += ["", status_line(complaint, tr, rt)]
    enqueue_long(
        session, complaint.complainant_id, "\n".join(lines), complainant_buttons(complaint, tr)
    )
    session.flush()
    return message


def resolve(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    answer: str,
    now: datetime | None = None,
) -> Complaint:
    """The office's answer; the complainant is asked whether it solved the problem."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(answer)
    if complaint.status not in OPEN_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="resolve")
    _claim_for_work(complaint, actor, "resolve", now)
    walk_path(complaint, [RESOLVED], "resolve")
    complaint.answer = text
    complaint.first_response_at = complaint.first_response_at or now
    complaint.resolved_at = now
    complaint.close_due = rt.calendar.due_at(
        now, rt.settings.complaint_silence_days, "working_days"
    )
    complaint.solved = None
    complaint.rating = None
    complaint.feedback_at = None
    _stamp(complaint, now)
    session.add(
        ComplaintMessage(
            complaint_id=complaint.id,
            author_id=actor.telegram_id,
            author_kind="officer",
            body=text,
            at=now,
        )
    )
    record_change(session, rt, complaint, actor, "resolved")
    return complaint


def reject(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    reason: str,
    now: datetime | None = None,
) -> Complaint:
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(reason)
    walk_path(complaint, [REJECTED], "reject")
    complaint.reject_reason = text
    complaint.closed_at = now
    _stamp(complaint, now)
    record_change(session, rt, complaint, actor, "rejected")
    return complaint


def mark_duplicate(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    original: Complaint,
    now: datetime | None = None,
) -> Complaint:
    """The same matter is already handled under ``original``."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if original.id == complaint.id or original.status == DUPLICATE:
        raise InvalidInput("bad_original")
    walk_path(complaint, [DUPLICATE], "duplicate")
    complaint.duplicate_of_id = original.id
    complaint.closed_at = now
    _stamp(complaint, now)
    record_change(session, rt, complaint, actor, "duplicate", original=original.ticket)
    return complaint


def add_addition(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    body: str,
    evidence: Sequence[Evidence] = (),
    now: datetime | None = None,
) -> ComplaintMessage:
    """The complainant adds information or answers back; the officers see it."""
    now = now or utcnow()
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if complaint.status in TERMINAL_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="add")
    text = clean_message(body)
    if any(e.kind not in EVIDENCE_KINDS for e in evidence):
        raise InvalidInput("bad_evidence")
    total = len(evidence_of(session, complaint)) + len(evidence)
    if total > MAX_EVIDENCE * 2:
        raise InvalidInput("bad_evidence")
    message = ComplaintMessage(
        complaint_id=complaint.id,
        author_id=complainant_id,
        author_kind="complainant",
        body=text,
        at=now,
    )
    session.add(message)
    new_evidence = [
        ComplaintEvidence(complaint_id=complaint.id, kind=e.kind, file_id=e.file_id, added_at=now)
        for e in evidence
    ]
    session.add_all(new_evidence)
    complaint.updated_at = now
    session.flush()
    for chat_id, locale in officer_recipients(session, rt, complaint):
        tr = Translator(locale)
        lines = [
            tr.gettext("✍️ <b>The complainant added to {ticket}</b>").format(
                ticket=complaint.ticket
            ),
            "",
            escape(mask_numbers(text)),
        ]
        markup = with_reveal_button(session, complaint, staff_buttons(complaint, tr), tr)
        enqueue_long(session, chat_id, "\n".join(lines), markup)
        enqueue_attachments(session, rt, complaint, chat_id, tr, evidence=new_evidence)
    return message


def officer_recipients(
    session: Session, rt: Runtime, complaint: Complaint
) -> list[tuple[int, str]]:
    """Who hears about a ticket's news: its officer, else the group, else its supervisors."""
    if complaint.assignee_id is not None:
        return [(complaint.assignee_id, user_locale(session, rt, complaint.assignee_id))]
    if rt.settings.complaints_chat_id is not None:
        return [(rt.settings.complaints_chat_id, rt.settings.default_locale)]
    return [(s, user_locale(session, rt, s)) for s in supervisors_for(session, complaint)]
