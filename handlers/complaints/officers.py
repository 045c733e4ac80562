"""The officers' side of complaints: the buttons on the group's posts, assigning, and what an
officer types next (/reply, /duplicate, /unit)."""

from __future__ import annotations

import html
import logging
import zlib

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ContextTypes

import bot.complaints.handling as complaints_handling
import bot.complaints.queries as complaints_queries
from bot.complaints.access import (
    ComplaintError,
    IllegalMove,
    InvalidInput,
    NotAllowed,
    Viewer,
    can_handle,
)
from bot.complaints.filing import (
    get_by_ticket,
    get_complaint,
)
from bot.complaints.handling import (
    assign,
    mark_duplicate,
    reject,
    resolve,
    take,
)
from bot.complaints.masking import with_reveal_button
from bot.complaints.models import Complaint
from bot.complaints.queries import assignable_staff, evidence_of, set_staff_unit
from bot.complaints.render import (
    handler_label,
    render_staff_card,
    staff_buttons,
)
from bot.complaints.vocabulary import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
)
from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState
from bot.core.text import escape, split_message
from bot.people.conversations import clear_state, set_state
from bot.people.staff_names import staff_label, staff_labels
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
)
from handlers.complaints.shared import (
    OFFICER_FLOW,
    acting_viewer,
    error_text,
    inline_keyboard,
    json_markup,
)
from handlers.complaints.tickets import parse_ticket_button

# --- officers ---------------------------------------------------------------------------------

log = logging.getLogger(__name__)


def _unit_code(unit: str) -> str:
    """A unit in 8 characters of callback data (names can be longer than Telegram allows)."""
    return f"{zlib.crc32(unit.encode()):08x}"


async def _private_prompt(
    update: Update, context: ContextTypes.DEFAULT_TYPE, user_id: int, text: str
) -> bool:
    """Ask the officer in their private chat (a group button's follow-up is typed there)."""
    try:
        for part in split_message(text):
            await context.bot.send_message(user_id, part, parse_mode=ParseMode.HTML)
    except Forbidden:
        return False
    return True


async def staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cx:<action>:<id>[:arg] from the group post, reminders and lists. The presser's role
    and unit come from the database; the group a button sits in grants nothing."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    parsed = parse_ticket_button(query.data, "cx")
    if parsed is None:
        await unknown_button(update, context)
        return
    action, complaint_id, arg = parsed
    with rt.db.session() as s:
        viewer = acting_viewer(s, rt, query.from_user)
        complaint = s.get(Complaint, complaint_id)
    if not viewer.is_staff or complaint is None:
        await unknown_button(update, context)
        return
    if not can_handle(viewer, complaint):
        await query.answer(error_text(NotAllowed("not_your_ticket"), tr), show_alert=True)
        return
    try:
        if action == "take":
            with rt.db.session() as s:
                c = get_complaint(s, complaint_id, for_update=True)
                take(s, rt, c, actor=viewer)
            # The group post shows who took it, through the outbox (bot/complaints/post.py).
            await query.answer(_("{ticket} is now yours.").format(ticket=c.ticket), show_alert=True)
        elif action == "asg":
            await query.answer()
            await _assign_menu(update, context, viewer, complaint, tr)
        elif action in ("unit", "off"):
            await _assign_to(update, context, viewer, complaint_id, action, arg, tr)
        elif action in ("rep", "res", "rej"):
            await _ask_officer_text(update, context, complaint, action, tr)
        elif action == "view":
            await query.answer()
            await _staff_view(update, context, viewer, complaint_id, tr)
        else:
            await unknown_button(update, context)
    except ComplaintError as exc:
        await query.answer(error_text(exc, tr), show_alert=True)


async def _assign_menu(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: Viewer,
    complaint: Complaint,
    tr: Translator,
) -> None:
    rt = runtime(context)
    _ = tr.gettext
    with rt.db.session() as s:
        units = complaints_queries.units(s)
        officers = [
            o for o in assignable_staff(s) if viewer.sees_all or o.unit == viewer.unit
        ]
        names = staff_labels(s, (o.telegram_id for o in officers))
    rows = [
        [(f"🏢 {u}", CallbackData("cx", "unit", complaint.id, _unit_code(u)).pack())] for u in units
    ]
    rows += [
        [
            (
                f"👤 {staff_label(names, o.telegram_id, tr)}" + (f" · {o.unit}" if o.unit else ""),
                CallbackData("cx", "off", complaint.id, str(o.telegram_id)).pack(),
            )
        ]
        for o in officers
    ]
    if not rows:
        await reply_html(update, _("No units or officers are registered yet."))
        return
    await reply_html(
        update, _("Assign {ticket} to:").format(ticket=complaint.ticket), inline_keyboard(rows)
    )


async def _assign_to(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: Viewer,
    complaint_id: int,
    kind: str,
    arg: str,
    tr: Translator,
) -> None:
    rt = runtime(context)
    query = update.callback_query
    with rt.db.session() as s:
        c = get_complaint(s, complaint_id, for_update=True)
        if kind == "unit":
            unit = next((u for u in complaints_queries.units(s) if _unit_code(u) == arg), None)
            if unit is None:
                raise InvalidInput("unknown_unit")
            assign(s, rt, c, actor=viewer, unit=unit)
        else:
            if not arg.lstrip("-").isdigit():
                raise InvalidInput("unknown_officer")
            assign(s, rt, c, actor=viewer, assignee_id=int(arg))
        label = html.unescape(handler_label(s, c, tr))  # an alert is plain text
    await query.answer(
        tr.gettext("{ticket} assigned to {who}.").format(ticket=c.ticket, who=label),
        show_alert=True,
    )


OFFICER_PROMPTS = {
    "rep": N_("Write your reply to {ticket}; it goes to the complainant. /batal to cancel."),
    "res": N_(
        "Write the answer that resolves {ticket}; the complainant will be asked whether "
        "it solved the problem. /batal to cancel."
    ),
    "rej": N_(
        "Write the reason for rejecting {ticket}; the complainant will read it. /batal to cancel."
    ),
}


async def _ask_officer_text(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    complaint: Complaint,
    action: str,
    tr: Translator,
) -> None:
    rt = runtime(context)
    user_id = update.effective_user.id
    if complaint.status in TERMINAL_STATUSES or (
        action != "rep" and complaint.status not in OPEN_STATUSES
    ):
        raise IllegalMove("illegal_move", status=complaint.status)
    with rt.db.session() as s:
        set_state(
            s,
            chat_id=user_id,
            user_id=user_id,
            flow=OFFICER_FLOW,
            step=action,
            data={"complaint_id": complaint.id},
        )
        card = render_staff_card(s, rt, complaint, tr, with_thread=True)
    prompt = tr.gettext(OFFICER_PROMPTS[action]).format(ticket=complaint.ticket)
    sent = await _private_prompt(update, context, user_id, card + "\n\n<b>" + prompt + "</b>")
    if update.callback_query is None:
        return
    if sent:
        await update.callback_query.answer(tr.gettext("Write it in your private chat with me."))
    else:
        with rt.db.session() as s:
            clear_state(s, chat_id=user_id, user_id=user_id)
        await update.callback_query.answer(
            tr.gettext("Open a private chat with me first (press Start), then try again."),
            show_alert=True,
        )


async def officer_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The officer's reply, answer or rejection reason, typed after the button or /reply."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    text = update.effective_message.text
    if not text:
        await reply_html(update, _("Please write it as text. /batal to cancel."))
        return
    try:
        with rt.db.session() as s:
            viewer = acting_viewer(s, rt, update.effective_user)
            c = get_complaint(s, state.data["complaint_id"], for_update=True)
            if state.step == "rep":
                complaints_handling.reply(s, rt, c, actor=viewer, body=text)
                done = _("Reply sent to the complainant of {ticket}.")
            elif state.step == "res":
                resolve(s, rt, c, actor=viewer, answer=text)
                done = _("{ticket} is resolved; the complainant has been asked to confirm.")
            else:
                reject(s, rt, c, actor=viewer, reason=text)
                done = _("{ticket} is rejected; the complainant has been told why.")
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            ticket = c.ticket
    except InvalidInput as exc:
        await reply_html(update, error_text(exc, tr))
        return
    except ComplaintError as exc:
        with rt.db.session() as s:
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, error_text(exc, tr))
        return
    await reply_html(update, done.format(ticket=ticket))


async def _staff_view(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: Viewer,
    complaint_id: int,
    tr: Translator,
) -> None:
    """The full ticket for an officer, in their private chat, evidence re-sent by file id."""
    rt = runtime(context)
    with rt.db.session() as s:
        c = get_complaint(s, complaint_id)
        text = render_staff_card(s, rt, c, tr, with_thread=True)
        markup = json_markup(with_reveal_button(s, c, staff_buttons(c, tr), tr))
        evidence = [(e.kind, e.file_id) for e in evidence_of(s, c)]
    chat_id = viewer.telegram_id
    parts = split_message(text)
    try:
        for index, part in enumerate(parts):
            await context.bot.send_message(
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if index == len(parts) - 1 else None,
            )
        for kind, file_id in evidence:
            if kind == "photo":
                await context.bot.send_photo(chat_id, file_id, caption=c.ticket)
            else:
                await context.bot.send_document(chat_id, file_id, caption=c.ticket)
    except Forbidden:
        if update.callback_query is not None:
            await update.callback_query.answer(
                tr.gettext("Open a private chat with me first (press Start), then try again."),
                show_alert=True,
            )


@staff_only("officer")
async def reply_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reply <ticket>: the officer's next message goes to the complainant."""
    await _officer_ticket_command(update, context, "rep")


@staff_only("officer")
async def duplicate_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/duplikat <ticket> <original ticket>."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if len(context.args) != 2:
        await reply_html(update, escape(_("Usage: /duplikat <ticket> <original ticket>")))
        return
    try:
        with rt.db.session() as s:
            viewer = acting_viewer(s, rt, update.effective_user)
            complaint = get_by_ticket(s, context.args[0])
            original = get_by_ticket(s, context.args[1])
            if complaint is None or original is None or not can_handle(viewer, complaint):
                raise NotAllowed("unknown_ticket")
            complaint = get_complaint(s, complaint.id, for_update=True)
            mark_duplicate(s, rt, complaint, actor=viewer, original=original)
            text = _("{ticket} is marked as a duplicate of {original}.").format(
                ticket=complaint.ticket, original=original.ticket
            )
    except ComplaintError as exc:
        await reply_html(update, error_text(exc, tr))
        return
    await reply_html(update, text)


async def _officer_ticket_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if not context.args:
        await reply_html(update, escape(_("Usage: /reply <ticket>")))
        return
    with rt.db.session() as s:
        viewer = acting_viewer(s, rt, update.effective_user)
        complaint = get_by_ticket(s, " ".join(context.args))
    if complaint is None or not can_handle(viewer, complaint):
        await reply_html(
            update,
            _("No ticket {ticket} that you can handle.").format(
                ticket=escape(" ".join(context.args))
            ),
        )
        return
    try:
        await _ask_officer_text(update, context, complaint, action, tr)
    except ComplaintError as exc:
        await reply_html(update, error_text(exc, tr))


@staff_only("admin")
async def unit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unit <user id> <unit name>: the unit whose complaints an officer handles ("-": none)."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = context.args or []
    if len(args) < 2 or not args[0].lstrip("-").isdigit():
        await reply_html(
            update, escape(_("Usage: /unit <user id> <unit name>, or /unit <user id> - for none"))
        )
        return
    unit = " ".join(args[1:])
    try:
        with rt.db.session() as s:
            staff = set_staff_unit(
                s,
                telegram_id=int(args[0]),
                unit=None if unit == "-" else unit,
                actor_id=update.effective_user.id,
            )
            who = escape(
                staff_label(staff_labels(s, [staff.telegram_id]), staff.telegram_id, tr)
            )
            text = (
                _("{user} now handles the complaints of {unit}.").format(
                    user=who, unit=escape(staff.unit)
                )
                if staff.unit
                else _("{user} has no unit now.").format(user=who)
            )
    except ComplaintError as exc:
        await reply_html(update, error_text(exc, tr))
        return
    await reply_html(update, text)
