"""The complainant's verdict on the office's answer: solved (the ticket closes) or not (it
opens again: the complainant is asked what is still wrong, and the handling officer and the
officers' group are alerted), and the 1-5 star rating, a low one shown to the supervisors of the
ticket's unit. Every step is shown on the group post (bot/complaints/post.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.complaints.access import IllegalMove, InvalidInput, NotAllowed, Viewer
from bot.complaints.anonymity import audit_actor
from bot.complaints.filing import clean_message
from bot.complaints.handling import walk_path
from bot.complaints.models import Complaint, ComplaintMessage
from bot.complaints.notify import enqueue_long
from bot.complaints.post import record_change, refresh_post
from bot.complaints.queries import supervisors_for, user_locale
from bot.complaints.render import handler_label, render_staff_card, staff_buttons, view_button
from bot.complaints.satisfaction import LOW_RATING
from bot.complaints.vocabulary import CLOSED, IN_PROGRESS, OPEN_STATUSES, RESOLVED
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.roles import audit
from bot.privacy.masking import mask_numbers


def record_feedback(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    solved: bool,
    now: datetime | None = None,
) -> Complaint:
    """ "Is it solved?" Yes closes the ticket; no reopens it, and its officer and the group are
    told at once (the complainant is then asked what is still wrong: ``explain_reopen``)."""
    now = now or utcnow()
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if complaint.status != RESOLVED:
        raise IllegalMove("illegal_move", status=complaint.status, action="feedback")
    complaint.solved = solved
    complaint.feedback_at = now
    actor = Viewer(complainant_id)
    if solved:
        walk_path(complaint, [CLOSED], "feedback")
        complaint.closed_at = now
        complaint.updated_at = now
        record_change(session, rt, complaint, actor, "closed")
        return complaint
    walk_path(complaint, [IN_PROGRESS], "feedback")
    complaint.reopen_count += 1
    complaint.resolved_at = None
    complaint.close_due = None
    complaint.updated_at = now
    record_change(session, rt, complaint, actor, "reopened")
    for chat_id, locale in reopen_recipients(session, rt, complaint):
        tr = Translator(locale)
        text = tr.gettext(
            "🔁 The complainant says complaint {ticket} is <b>not solved</b>; it is open again. "
            "They are asked what is still wrong."
        ).format(ticket=complaint.ticket)
        text += "\n" + tr.gettext("Handled by: {who}").format(
            who=handler_label(session, complaint, tr) or "-"
        )
        enqueue_long(session, chat_id, text, staff_buttons(complaint, tr))
    return complaint


def explain_reopen(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    body: str,
    now: datetime | None = None,
) -> ComplaintMessage:
    """What is still wrong, in the complainant's words, after "not solved": kept in the ticket's
    thread and sent to the handling officer and the group."""
    now = now or utcnow()
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if complaint.status not in OPEN_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="add")
    text = clean_message(body)
    message = ComplaintMessage(
        complaint_id=complaint.id,
        author_id=complainant_id,
        author_kind="complainant",
        body=text,
        at=now,
    )
    session.add(message)
    complaint.updated_at = now
    session.add(complaint)
    session.flush()
    audit(
        session, **audit_actor(complaint, complainant_id), action="complaint.reopen_reason",
        subject=complaint.ticket,
    )
    for chat_id, locale in reopen_recipients(session, rt, complaint):
        tr = Translator(locale)
        lines = [
            tr.gettext("🔁 <b>Still not solved: {ticket}</b>. The complainant writes:").format(
                ticket=complaint.ticket
            ),
            "",
            escape(mask_numbers(text)),  # staff read it: NIKs and phone numbers masked
        ]
        enqueue_long(session, chat_id, "\n".join(lines), staff_buttons(complaint, tr))
    return message


def reopen_recipients(
    session: Session, rt: Runtime, complaint: Complaint
) -> list[tuple[int, str]]:
    """Who hears that a ticket is not solved: its officer and the group; with neither, the
    supervisors over it."""
    recipients = []
    if complaint.assignee_id is not None:
        recipients.append((complaint.assignee_id, user_locale(session, rt, complaint.assignee_id)))
    if rt.settings.complaints_chat_id is not None:
        recipients.append((rt.settings.complaints_chat_id, rt.settings.default_locale))
    if recipients:
        return recipients
    return [(s, user_locale(session, rt, s)) for s in supervisors_for(session, complaint)]


def record_rating(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    rating: int,
    now: datetime | None = None,
) -> Complaint:
    """1-5 stars, once per answer, after the yes/no question. One or two stars go to the
    supervisors of the ticket's unit (the group when it has none)."""
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if not 1 <= rating <= 5:
        raise InvalidInput("bad_rating")
    if complaint.feedback_at is None or complaint.rating is not None:
        raise IllegalMove("illegal_move", status=complaint.status, action="rate")
    complaint.rating = rating
    complaint.updated_at = now or utcnow()
    session.add(complaint)
    audit(
        session,
        **audit_actor(complaint, complainant_id),
        action="complaint.rated",
        subject=complaint.ticket,
        rating=rating,
    )
    refresh_post(session, rt, complaint)
    if rating <= LOW_RATING:
        _tell_supervisors_of_low_rating(session, rt, complaint)
    return complaint


def _tell_supervisors_of_low_rating(session: Session, rt: Runtime, complaint: Complaint) -> None:
    recipients = [(s, user_locale(session, rt, s)) for s in supervisors_for(session, complaint)]
    if not recipients and rt.settings.complaints_chat_id is not None:
        recipients = [(rt.settings.complaints_chat_id, rt.settings.default_locale)]
    for chat_id, locale in recipients:
        tr = Translator(locale)
        verdict = (
            tr.gettext("They said the problem was solved.")
            if complaint.solved
            else tr.gettext("They said the problem was not solved.")
        )
        text = (
            tr.gettext("⭐ <b>Low rating for complaint {ticket}</b>: {rating} of 5 stars.").format(
                ticket=complaint.ticket, rating=complaint.rating
            )
            + " "
            + verdict
            + "\n"
            + render_staff_card(session, rt, complaint, tr)
        )
        enqueue_long(
            session,
            chat_id,
            text,
            view_button(complaint, tr),
            dedupe_key=f"cmp:{complaint.id}:lowrating:{complaint.feedback_at:%Y%m%d%H%M%S}:{chat_id}",
        )
