"""The "show" button under a ticket staff read with NIKs and phone numbers masked: the whole
text goes to the presser's private chat, only if they handle the ticket, and is audited."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.complaints.access import NotAllowed, viewer_for
from bot.complaints.masking import parse_reveal, record_reveal, revealed_card
from bot.complaints.models import Complaint
from bot.core.text import split_message
from handlers.common import runtime, translator, unknown_button


async def reveal_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cs:show:<complaint id>. The presser's role and unit come from the database; a press by
    anyone but the ticket's officer (or a supervisor or admin over its unit) shows nothing."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    complaint_id = parse_reveal(query.data)
    if complaint_id is None:
        await unknown_button(update, context)
        return
    presser = query.from_user.id
    allowed = True
    with rt.db.session() as s:
        viewer = viewer_for(s, presser, rt.settings.admin_ids)
        complaint = s.get(Complaint, complaint_id)
        if complaint is None or not viewer.is_staff:
            text = None
        else:
            try:
                text = revealed_card(s, rt, complaint, viewer, tr)
            except NotAllowed:
                allowed = False
    if not allowed:
        await query.answer(
            _("Only the officer handling this ticket, or a supervisor of its unit, can see the "
              "full numbers."),
            show_alert=True,
        )
        return
    if text is None:
        await unknown_button(update, context)
        return
    try:
        for part in split_message(text):
            await context.bot.send_message(presser, part, parse_mode=ParseMode.HTML)
    except Forbidden:
        await query.answer(
            _("Open a private chat with me first (press Start), then try again."), show_alert=True
        )
        return
    with rt.db.session() as s:
        record_reveal(s, complaint, viewer)
    await query.answer(_("Sent to your private chat; this view is recorded."))
