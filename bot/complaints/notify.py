"""The messages a complaint causes, queued in the outbox in the transaction of the change: the
post to the officers' group, and the complainant's notices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from bot.complaints.access import Viewer
from bot.complaints.anonymity import audit_actor
from bot.complaints.masking import with_reveal_button
from bot.complaints.models import (
    ERASED_COMPLAINANT,
    Complaint,
    ComplaintEvidence,
)
from bot.complaints.queries import evidence_of, user_locale
from bot.complaints.render import (
    complainant_buttons,
    feedback_buttons,
    render_staff_card,
    staff_buttons,
)
from bot.complaints.vocabulary import OPEN_STATUSES, STATUS_LABELS
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.core.text import escape, split_message
from bot.outbox.store import enqueue
from bot.people.roles import audit


def alert_urgent(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    chat_id: int,
    locale: str,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Tell a supervisor of an urgent ticket (illegal fee, safety) the moment it is filed: the
    card with the officers' buttons, then its location and evidence by file id."""
    tr = Translator(locale)
    headline = tr.gettext(
        "🚨 <b>Urgent complaint {ticket}</b>: please contact the complainant by {due}."
    ).format(ticket=complaint.ticket, due=tr.datetime(complaint.response_due, rt.tz))
    text = headline + "\n" + render_staff_card(session, rt, complaint, tr)
    markup = with_reveal_button(session, complaint, staff_buttons(complaint, tr), tr)
    enqueue_long(session, chat_id, text, markup, dedupe_key=dedupe_key)
    enqueue_attachments(session, rt, complaint, chat_id, tr, dedupe_key=dedupe_key)


def enqueue_attachments(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    chat_id: int,
    tr: Translator,
    *,
    evidence: Sequence[ComplaintEvidence] | None = None,
    dedupe_key: str | None = None,
) -> None:
    if evidence is None:
        evidence = evidence_of(session, complaint)
        if complaint.latitude is not None and complaint.longitude is not None:
            enqueue(
                session,
                chat_id=chat_id,
                method="sendLocation",
                latitude=complaint.latitude,
                longitude=complaint.longitude,
                dedupe_key=f"{dedupe_key}:loc" if dedupe_key else None,
            )
    caption = tr.gettext("Evidence for {ticket}").format(ticket=complaint.ticket)
    for item in evidence:
        param = "photo" if item.kind == "photo" else "document"
        enqueue(
            session,
            chat_id=chat_id,
            method="sendPhoto" if item.kind == "photo" else "sendDocument",
            caption=caption,
            dedupe_key=f"{dedupe_key}:ev{item.id}" if dedupe_key else None,
            **{param: item.file_id},
        )


def enqueue_long(
    session: Session,
    chat_id: int,
    text: str,
    reply_markup: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Queue text of any length as several messages; the buttons go under the last one."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        enqueue(
            session,
            chat_id=chat_id,
            text=part,
            reply_markup=reply_markup if last else None,
            disable_web_page_preview=True,
            dedupe_key=f"{dedupe_key}:{index}" if dedupe_key else None,
        )


def audit_and_notify(
    session: Session, rt: Runtime, complaint: Complaint, actor: Viewer, event: str, **detail: Any
) -> None:
    """Audit the change and tell the complainant, in their language, in this transaction."""
    session.add(complaint)
    audit(
        session,
        **audit_actor(complaint, actor.telegram_id),
        action=f"complaint.{event}",
        subject=complaint.ticket,
        **detail,
    )
    notify_complainant(session, rt, complaint, event)


def complainant_reachable(complaint: Complaint) -> bool:
    """False once the complainant had their personal data erased (the ticket keeps its content
    for the office, but there is nobody left to tell)."""
    return complaint.complainant_id != ERASED_COMPLAINANT


def notify_complainant(session: Session, rt: Runtime, complaint: Complaint, event: str) -> None:
    if not complainant_reachable(complaint):
        return
    tr = Translator(user_locale(session, rt, complaint.complainant_id))
    _ = tr.gettext
    ticket = f"<b>{complaint.ticket}</b>"
    markup: dict[str, Any] | None = None
    if event == "verified":
        lines = [
            _("✅ Your complaint {ticket} has been checked and accepted for handling.").format(
                ticket=ticket
            )
        ]
    elif event == "assigned" and complaint.unit:
        lines = [
            _("📌 Your complaint {ticket} is now handled by {unit}.").format(
                ticket=ticket, unit=escape(complaint.unit)
            )
        ]
    elif event == "assigned":
        lines = [
            _("📌 Your complaint {ticket} has been given to an officer.").format(ticket=ticket)
        ]
    elif event == "resolved":
        lines = [
            _("✅ Your complaint {ticket} has been answered:").format(ticket=ticket),
            "",
            escape(complaint.answer or ""),
            "",
            _("Is your problem solved?"),
        ]
        markup = feedback_buttons(complaint, tr)
    elif event == "closed":
        lines = [
            _("🔒 Your complaint {ticket} is closed. Thank you for telling us.").format(
                ticket=ticket
            )
        ]
    elif event == "closed_silent":
        lines = [
            _(
                "🔒 Your complaint {ticket} is closed: we had no answer from you within "
                "{days} working days after our reply."
            ).format(ticket=ticket, days=rt.settings.complaint_silence_days)
        ]
    elif event == "reopened":
        # The complainant pressed "not solved" and is answered at once, with the question of
        # what is still wrong (handlers/complaints/tickets.py): no second message.
        return
    elif event == "rejected":
        lines = [
            _("❌ Your complaint {ticket} cannot be processed.").format(ticket=ticket),
            _("Reason: {reason}").format(reason=escape(complaint.reject_reason or "")),
        ]
    elif event == "duplicate":
        original = session.get(Complaint, complaint.duplicate_of_id)
        lines = [
            _(
                "🔗 Your complaint {ticket} is about a matter already handled under ticket "
                "{original}; it is followed up there."
            ).format(ticket=ticket, original=original.ticket if original else "-")
        ]
    else:
        raise ValueError(f"unknown complaint event {event!r}")
    if complaint.status in OPEN_STATUSES:
        lines += ["", status_line(complaint, tr, rt)]
        markup = complainant_buttons(complaint, tr)
    enqueue_long(session, complaint.complainant_id, "\n".join(lines), markup)


def status_line(complaint: Complaint, tr: Translator, rt: Runtime) -> str:
    return tr.gettext("Status: {status}. Expected to be resolved by {date}.").format(
        status=tr.gettext(STATUS_LABELS[complaint.status]),
        date=tr.date(complaint.resolve_due, rt.tz),
    )
