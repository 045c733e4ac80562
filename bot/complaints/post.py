"""The ticket's post in the officers' group: sent when the complaint is filed, then edited
through the outbox every time the ticket moves (taken, answered, resolved, reopened, closed,
rated), so the group sees where each complaint stands on the post itself, with the staff by
name. The post's outbox row is kept on the ticket; the outbox fills in Telegram's message id
when the edit goes out (bot/outbox/store.py, enqueue_edit).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.complaints.access import Viewer
from bot.complaints.masking import with_reveal_button
from bot.complaints.models import Complaint, ComplaintMessage
from bot.complaints.notify import audit_and_notify, enqueue_attachments
from bot.complaints.queries import thread_of
from bot.complaints.render import handler_label, render_staff_card, staff_buttons
from bot.complaints.vocabulary import (
    CLOSED,
    DUPLICATE,
    IN_PROGRESS,
    RECEIVED,
    REJECTED,
    RESOLVED,
    category_of,
)
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.core.text import escape, split_message
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue, enqueue_edit
from bot.people.staff_names import staff_label, staff_labels
from bot.privacy.masking import mask_numbers
from bot.telegram_rules.html import utf16_len

# A description up to this long (UTF-16 units, escaped) stays in the post; a longer one follows
# it in messages of its own, so that the post, with its progress lines, always fits in one
# message that can be edited. The card and the progress take well under the remaining 1,596.
DESCRIPTION_IN_POST = 2500


def post_new(session: Session, rt: Runtime, complaint: Complaint) -> None:
    """Post a new ticket to the officers' group (when there is one), with its buttons, then a
    long description, the location and the evidence."""
    chat_id = rt.settings.complaints_chat_id
    if chat_id is None:
        return
    tr = Translator(rt.settings.default_locale)
    head, rest = render_group_post(session, rt, complaint, tr)
    row = enqueue(
        session,
        chat_id=chat_id,
        text=head,
        reply_markup=with_reveal_button(session, complaint, staff_buttons(complaint, tr), tr),
        disable_web_page_preview=True,
    )
    complaint.group_post_id = row.id
    session.add(complaint)
    for part in rest:
        enqueue(session, chat_id=chat_id, text=part, disable_web_page_preview=True)
    enqueue_attachments(session, rt, complaint, chat_id, tr)


def refresh_post(session: Session, rt: Runtime, complaint: Complaint) -> None:
    """Edit the group post to show the ticket as it stands now (its buttons too: none once
    the ticket is closed)."""
    if complaint.group_post_id is None:
        return
    post = session.get(OutboxMessage, complaint.group_post_id)
    if post is None:
        return
    session.flush()  # the thread's newest message is part of what the post shows
    tr = Translator(rt.settings.default_locale)
    head, _rest = render_group_post(session, rt, complaint, tr)
    enqueue_edit(
        session,
        of=post,
        text=head,
        reply_markup=with_reveal_button(session, complaint, staff_buttons(complaint, tr), tr),
        disable_web_page_preview=True,
    )


def record_change(
    session: Session, rt: Runtime, complaint: Complaint, actor: Viewer, event: str, **detail: Any
) -> None:
    """A status change: audited, the complainant told, the group post brought up to date."""
    audit_and_notify(session, rt, complaint, actor, event, **detail)
    refresh_post(session, rt, complaint)


def render_group_post(
    session: Session, rt: Runtime, complaint: Complaint, tr: Translator
) -> tuple[str, list[str]]:
    """The post (one message: headline, card, progress) and the messages that carry a long
    description after it."""
    _ = tr.gettext
    description = mask_numbers(complaint.description)  # the group is staff: numbers masked
    inline = utf16_len(escape(description)) <= DESCRIPTION_IN_POST
    if category_of(rt, complaint.category).urgent and complaint.status == RECEIVED:
        headline = _(
            "🚨 <b>Urgent complaint {ticket}</b>: a supervisor must contact the complainant "
            "by {due}."
        ).format(ticket=complaint.ticket, due=tr.datetime(complaint.response_due, rt.tz))
    elif complaint.status == RECEIVED:
        headline = _("📣 <b>New complaint {ticket}</b>").format(ticket=complaint.ticket)
    else:
        headline = _("📣 <b>Complaint {ticket}</b>").format(ticket=complaint.ticket)
    lines = [headline, render_staff_card(session, rt, complaint, tr, with_description=inline)]
    if not inline:
        lines += ["", _("<i>The description follows in the next messages.</i>")]
    progress = progress_lines(session, rt, complaint, tr)
    if progress:
        lines += ["", _("<b>Progress</b>"), *progress]
    rest = []
    if not inline:
        rest = split_message(
            _("<b>Description of {ticket}</b>").format(ticket=complaint.ticket)
            + "\n"
            + escape(description)
        )
    return "\n".join(lines), rest


def progress_lines(
    session: Session, rt: Runtime, complaint: Complaint, tr: Translator
) -> list[str]:
    """What happened to the ticket so far, one line per step, staff by name (HTML)."""
    _ = tr.gettext

    def at(moment: Any) -> str:
        return tr.datetime(moment, rt.tz)

    officer_messages = [m for m in thread_of(session, complaint) if m.author_kind == "officer"]
    names = staff_labels(
        session, [complaint.assignee_id, *(m.author_id for m in officer_messages)]
    )

    def name(telegram_id: int) -> str:
        return escape(staff_label(names, telegram_id, tr))

    lines = []
    if complaint.assigned_at is not None and (complaint.assignee_id or complaint.unit):
        lines.append(
            _("🙋 Handled by {who} · {time}").format(
                who=handler_label(session, complaint, tr), time=at(complaint.assigned_at)
            )
        )
    first = officer_messages[0] if officer_messages else None
    if first is not None and (complaint.resolved_at is None or first.at < complaint.resolved_at):
        lines.append(
            _("💬 Answered by {who} · {time}").format(who=name(first.author_id), time=at(first.at))
        )
    if complaint.reopen_count:
        lines.append(
            tr.ngettext(
                "🔁 Reopened: the complainant said it was not solved",
                "🔁 Reopened {n} times: the complainant said it was not solved",
                complaint.reopen_count,
            ).format(n=complaint.reopen_count)
            + (
                f" · {at(complaint.feedback_at)}"
                if complaint.status == IN_PROGRESS and complaint.feedback_at
                else ""
            )
        )
    if complaint.resolved_at is not None and complaint.status in (RESOLVED, CLOSED):
        resolver = _resolver(officer_messages, complaint)
        lines.append(
            _("✅ Resolved by {who} · {time}").format(
                who=name(resolver) if resolver is not None else "-", time=at(complaint.resolved_at)
            )
        )
    if complaint.status == CLOSED and complaint.closed_at is not None:
        lines.append(
            (
                _("🔒 Closed: solved, the complainant confirmed · {time}")
                if complaint.solved
                else _("🔒 Closed: no answer from the complainant · {time}")
            ).format(time=at(complaint.closed_at))
        )
    if complaint.rating:
        lines.append(
            _("⭐ Rating: {stars} ({rating}/5)").format(
                stars="⭐" * complaint.rating, rating=complaint.rating
            )
        )
    if complaint.status == REJECTED and complaint.closed_at is not None:
        lines.append(
            _("❌ Rejected · {time}: {reason}").format(
                time=at(complaint.closed_at), reason=escape(complaint.reject_reason or "")
            )
        )
    if complaint.status == DUPLICATE and complaint.duplicate_of_id is not None:
        original = session.get(Complaint, complaint.duplicate_of_id)
        lines.append(
            _("🔗 Duplicate of {original}").format(original=original.ticket if original else "-")
        )
    return lines


def _resolver(messages: list[ComplaintMessage], complaint: Complaint) -> int | None:
    """Who resolved it: the author of the answer, the last officer message by then."""
    answered = [m for m in messages if m.at <= complaint.resolved_at]
    return answered[-1].author_id if answered else None
