"""The applicant's reply to "needs correction" (a message, a photo or a file of the missing
document) and the officer's answer, each a one-step flow; delivery is through the outbox."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.applications.errors import ApplicationError, NotFound
from bot.applications.lookup import is_follower
from bot.applications.models import Application as App
from bot.applications.replies import (
    ANSWER_PREFIX,
    DOCUMENT,
    LANGUAGE_NAMES,
    PHOTO,
    REPLY_PREFIX,
    answer_citizen,
    citizen_language,
    send_to_office,
)
from bot.applications.statuses import FINAL_STATUSES
from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState
from bot.people.conversations import clear_state, set_state
from bot.people.roles import has_role
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
    user_role,
)

REPLY_FLOW = "application_reply"
ANSWER_FLOW = "application_answer"


def _cancel(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        tr.gettext("✖️ Cancel"), callback_data=CallbackData("st", "cx").pack()
    )]])


# --- the applicant ------------------------------------------------------------------------------


async def reply_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:rp:<application id>, under a "needs correction" notice: only for its followers."""
    query = update.callback_query
    data = CallbackData.parse(query.data, REPLY_PREFIX, with_id={"rp"})
    tr = translator(update, context)
    _ = tr.gettext
    user_id = query.from_user.id
    with runtime(context).db.session() as session:
        application = session.get(App, data.id) if data is not None and data.id else None
        allowed = (
            application is not None
            and data.arg is None
            and application.status not in FINAL_STATUSES
            and is_follower(session, application_id=application.id, user_id=user_id)
        )
        if allowed:
            set_state(session, chat_id=update.effective_chat.id, user_id=user_id,
                      flow=REPLY_FLOW, step="message", data={"application": application.id})
    if not allowed:
        await unknown_button(update, context)
        return
    await query.answer()
    await reply_html(
        update,
        _("Write your message to the office about {number}, or send a photo or a file of the "
          "missing document.").format(number=f"<code>{application.display_number}</code>"),
        _cancel(tr),
    )


async def reply_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    message = update.effective_message
    attachment, file_id = None, None
    if message.photo:
        attachment, file_id = PHOTO, message.photo[-1].file_id
    elif message.document is not None:
        attachment, file_id = DOCUMENT, message.document.file_id
    text = message.caption if attachment else message.text
    if attachment is None and not (text or "").strip():
        await reply_html(update, _("Please write a message, or send a photo or a file."),
                         _cancel(tr))
        return
    try:
        with rt.db.session() as session:
            application = session.get(App, int(state.data.get("application", 0)))
            if application is None:
                raise NotFound(N_("This message is no longer available."))
            send_to_office(
                session, rt, application=application, citizen_id=state.user_id, text=text,
                attachment=attachment, file_id=file_id, from_chat_id=message.chat_id,
                message_id=message.message_id, now=rt.now(),
            )
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    except ApplicationError as err:
        await reply_html(update, err.message(tr), _cancel(tr))
        return
    await reply_html(update, _("✅ Sent to the office. Their answer will come here."))


# --- the officer --------------------------------------------------------------------------------


@staff_only("officer")
async def answer_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ar:an:<message id>, under an applicant's message (in a private chat or the group): the
    answer is written in the officer's private chat."""
    query = update.callback_query
    data = CallbackData.parse(query.data, ANSWER_PREFIX, with_id={"an"})
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    officer_id = query.from_user.id
    with rt.db.session() as session:
        language = citizen_language(session, rt, data.id) if data and data.id else None
    if language is None or data.arg is not None:
        await unknown_button(update, context)
        return
    prompt = _("Write your answer to the applicant. They read {language}.").format(
        language=_(LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["id"]))
    )
    if update.effective_chat.type == ChatType.PRIVATE:
        await reply_html(update, prompt, _cancel(tr))
    else:
        try:
            await context.bot.send_message(officer_id, prompt, parse_mode="HTML",
                                           reply_markup=_cancel(tr))
        except Forbidden:
            await query.answer(_("Please open a private chat with me first, then press again."),
                               show_alert=True)
            return
    with rt.db.session() as session:
        set_state(session, chat_id=officer_id, user_id=officer_id, flow=ANSWER_FLOW,
                  step="text", data={"message": data.id})
    await query.answer(
        None if update.effective_chat.type == ChatType.PRIVATE
        else _("I wrote to you in our private chat.")
    )


async def answer_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    if not has_role(user_role(update, context), "officer"):
        with rt.db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, _("Cancelled. Nothing was saved."))
        return
    text = (update.effective_message.text or "").strip()
    if not text:
        await reply_html(update, _("Please write the answer as text."), _cancel(tr))
        return
    try:
        with rt.db.session() as session:
            _row, application = answer_citizen(
                session, rt, message_id=int(state.data.get("message", 0)),
                officer_id=state.user_id, text=text, now=rt.now(),
            )
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    except ApplicationError as err:
        await reply_html(update, err.message(tr), _cancel(tr))
        return
    await reply_html(update, _("✅ Sent to the applicant of {number}.").format(
        number=f"<code>{application.display_number}</code>"
    ))
