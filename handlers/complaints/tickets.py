"""The citizen's complaint tickets: /tiket, the buttons under a ticket, additions to a ticket."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.complaints.access import (
    ComplaintError,
    IllegalMove,
    InvalidInput,
    can_handle,
    viewer_for,
)
from bot.complaints.feedback import explain_reopen, record_feedback, record_rating
from bot.complaints.filing import (
    Evidence,
    get_by_ticket,
    get_complaint,
)
from bot.complaints.handling import add_addition
from bot.complaints.lists import list_for_complainant
from bot.complaints.masking import with_reveal_button
from bot.complaints.models import Complaint
from bot.complaints.notify import status_line
from bot.complaints.render import (
    complainant_buttons,
    feedback_buttons,
    rating_buttons,
    render_complainant_card,
    render_staff_card,
    staff_buttons,
)
from bot.complaints.vocabulary import (
    RESOLVED,
    STATUS_LABELS,
    TERMINAL_STATUSES,
)
from bot.core.i18n import Translator
from bot.core.models import ConversationState
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.conversations import clear_state, set_state
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    translator,
    unknown_button,
)
from handlers.complaints.shared import (
    ADD_FLOW,
    REOPEN_FLOW,
    TICKET_ACTIONS,
    error_text,
    inline_keyboard,
    json_markup,
)

# --- the citizen's tickets --------------------------------------------------------------------


async def ticket_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tiket [number]: a complainant's own ticket (officers: one they may handle)."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    user_id = update.effective_user.id
    if not context.args:
        with rt.db.session() as s:
            mine = list_for_complainant(s, user_id)
        if not mine:
            await reply_html(update, _("You have no complaints. File one with /pengaduan."))
            return
        lines = [_("<b>Your complaints</b>")]
        rows = []
        for c in mine:
            lines.append(f"{c.ticket} · {_(STATUS_LABELS[c.status])}")
            rows.append([(c.ticket, CallbackData("cc", "view", c.id).pack())])
        await reply_html(update, "\n".join(lines), inline_keyboard(rows[:10]))
        return
    typed = " ".join(context.args)
    with rt.db.session() as s:
        complaint = get_by_ticket(s, typed)
        viewer = viewer_for(s, user_id, rt.settings.admin_ids)
        if complaint is not None and complaint.complainant_id == user_id:
            text, markup = _complainant_view(s, rt, complaint, tr)
        elif complaint is not None and can_handle(viewer, complaint):
            text = render_staff_card(s, rt, complaint, tr, with_thread=True)
            markup = json_markup(with_reveal_button(s, complaint, staff_buttons(complaint, tr), tr))
        else:
            # The same answer whether the ticket does not exist or is someone else's.
            text = _("No ticket {ticket} among your complaints.").format(ticket=escape(typed))
            markup = None
    await reply_html(update, text, markup)


def _complainant_view(
    s: Any, rt: Runtime, complaint: Complaint, tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = render_complainant_card(s, rt, complaint, tr)
    if complaint.status == RESOLVED:
        markup = feedback_buttons(complaint, tr)
    elif complaint.status in TERMINAL_STATUSES:
        markup = None
    else:
        markup = complainant_buttons(complaint, tr)
    return text, json_markup(markup)


def parse_ticket_button(data: str | None, prefix: str) -> tuple[str, int, str] | None:
    """``prefix:action:<complaint id>[:arg]`` as (action, id, arg); None when malformed."""
    parsed = CallbackData.parse(data, prefix, with_id=TICKET_ACTIONS)
    if parsed is None or parsed.id is None:
        return None
    return parsed.action, parsed.id, parsed.arg or ""


async def complainant_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cc:view|add|fb|rate:<id>[:value]: only the ticket's own complainant may press these."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    parsed = parse_ticket_button(query.data, "cc")
    if parsed is None:
        await unknown_button(update, context)
        return
    action, complaint_id, value = parsed
    user_id = query.from_user.id
    with rt.db.session() as s:
        complaint = s.get(Complaint, complaint_id)
        if complaint is None or complaint.complainant_id != user_id:
            complaint = None
        elif action == "view":
            text, markup = _complainant_view(s, rt, complaint, tr)
    if complaint is None or action not in ("view", "add", "fb", "rate"):
        await unknown_button(update, context)
        return
    if action == "view":
        await query.answer()
        await reply_html(update, text, markup)
        return
    if action == "add":
        if complaint.status in TERMINAL_STATUSES:
            await query.answer(
                error_text(IllegalMove("illegal_move", status=complaint.status), tr),
                show_alert=True,
            )
            return
        await query.answer()
        with rt.db.session() as s:
            set_state(
                s,
                chat_id=user_id,
                user_id=user_id,
                flow=ADD_FLOW,
                step="text",
                data={"complaint_id": complaint_id},
            )
        await reply_html(
            update,
            _(
                "Write what you want to add to {ticket}. You may also send a photo or a document "
                "with a caption. /batal to cancel."
            ).format(ticket=complaint.ticket),
        )
        return
    try:
        with rt.db.session() as s:
            complaint = get_complaint(s, complaint_id, for_update=True)
            if action == "fb" and value == "y":
                record_feedback(s, rt, complaint, complainant_id=user_id, solved=True)
                reply = _("Thank you. How would you rate the handling of your complaint?")
                markup = json_markup(rating_buttons(complaint))
            elif action == "fb" and value == "n":
                record_feedback(s, rt, complaint, complainant_id=user_id, solved=False)
                # The next message says what is still wrong; the rating is asked after it.
                set_state(
                    s,
                    chat_id=user_id,
                    user_id=user_id,
                    flow=REOPEN_FLOW,
                    step="text",
                    data={"complaint_id": complaint_id},
                )
                reply = "\n".join(
                    [
                        _("🔁 Your complaint {ticket} is open again.").format(
                            ticket=f"<b>{complaint.ticket}</b>"
                        ),
                        _(
                            "<b>What is still not solved?</b> Write it in one message; the "
                            "officer handling your complaint will read it."
                        ),
                        "",
                        status_line(complaint, tr, rt),
                    ]
                )
                markup = None
            elif action == "rate" and value.isdigit():
                record_rating(s, rt, complaint, complainant_id=user_id, rating=int(value))
                reply, markup = _("Thank you for your rating."), None
            else:
                raise InvalidInput("bad_button")
    except InvalidInput:
        await unknown_button(update, context)
        return
    except ComplaintError as exc:
        await query.answer(error_text(exc, tr), show_alert=True)
        return
    await query.answer()
    await reply_html(update, reply, markup)


async def addition_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The complainant's addition to a ticket: text, or a photo/document with a caption."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    evidence: list[Evidence] = []
    if message.photo:
        evidence.append(Evidence("photo", message.photo[-1].file_id))
    elif message.document:
        evidence.append(Evidence("document", message.document.file_id))
    body = message.text or message.caption or ("📎" if evidence else "")
    try:
        with rt.db.session() as s:
            complaint = get_complaint(s, state.data["complaint_id"], for_update=True)
            add_addition(
                s,
                rt,
                complaint,
                complainant_id=update.effective_user.id,
                body=body,
                evidence=evidence,
            )
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            ticket = complaint.ticket
    except ComplaintError as exc:
        await reply_html(update, error_text(exc, tr))
        return
    await reply_html(
        update, _("Added to {ticket}. The officers will see it.").format(ticket=ticket)
    )


async def reopen_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """What is still wrong, after "not solved": to the officer and the group; then the rating."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    if not message.text:
        await reply_html(update, _("Please write it as text. /batal to cancel."))
        return
    try:
        with rt.db.session() as s:
            complaint = get_complaint(s, state.data["complaint_id"], for_update=True)
            explain_reopen(
                s, rt, complaint, complainant_id=update.effective_user.id, body=message.text
            )
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            rate = complaint.rating is None
            markup = json_markup(rating_buttons(complaint)) if rate else None
            ticket = complaint.ticket
    except InvalidInput as exc:
        await reply_html(update, error_text(exc, tr))
        return
    except ComplaintError as exc:
        with rt.db.session() as s:
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, error_text(exc, tr))
        return
    text = _("Thank you. The officer handling {ticket} will read it.").format(ticket=ticket)
    if rate:
        text += "\n" + _("How would you rate the handling of your complaint so far?")
    await reply_html(update, text, markup)
