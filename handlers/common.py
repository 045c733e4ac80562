"""Shared handler plumbing: the runtime and translator of an update, replies, flows kept in the
database, the main menu keyboard, the unknown-button and unknown-command answers, staff guards."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    ContextTypes,
)

from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState
from bot.core.runtime import Runtime
from bot.core.text import split_message
from bot.people.conversations import clear_state, get_state, reply_keyboard_shown
from bot.people.users import user_language
from bot.telegram_rules.callback import CallbackData
from handlers.media import what_i_take
from handlers.registry import Handler, registry

log = logging.getLogger(__name__)

# Handler groups, in the order python-telegram-bot runs them; every group sees every update
# unless a guard raises ApplicationHandlerStop. Within a group the first matching handler wins,
# so features register before the fallbacks (bot/app.py keeps that order).
GROUP_GUARDS = -10  # flood control, duplicate updates: may stop the update
GROUP_FEATURES = 0  # commands, buttons, conversation steps, then the fallbacks


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.application.bot_data["runtime"]


def translator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translator:
    """The translator for the user behind this update, creating their row at first contact.

    Kept on the handler's context for the rest of the update, since a handler and the helpers
    it calls each ask (a language chosen in /bahasa takes effect from the next update).
    """
    cached = context.__dict__.get("_translator")
    if cached is not None and cached[0] == update.update_id:
        return cached[1]
    rt = runtime(context)
    tg_user = update.effective_user
    if tg_user is None:
        return Translator(rt.settings.default_locale)
    language = user_language(
        rt.db,
        telegram_id=tg_user.id,
        language_code=tg_user.language_code,
        default_locale=rt.settings.default_locale,
    )
    tr = Translator(language)
    context.__dict__["_translator"] = (update.update_id, tr)
    return tr


async def edit_in_place(edit: Awaitable[object]) -> None:
    """Await an edit of a message, where the message already showing the result is fine: a
    double press, or an update handled again after a takeover (bot/webhook/journal.py), edits to
    what is there, and Telegram refuses that as "message is not modified", no error for the user."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def reply_html(update: Update, text: str, reply_markup: object = None) -> None:
    """Reply in the update's chat, splitting text over Telegram's 4,096-character limit."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = split_message(text)
    for index, part in enumerate(parts):
        await chat.send_message(
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup if index == len(parts) - 1 else None,
            disable_web_page_preview=True,
        )


# --- conversation flows kept in the database ------------------------------------------------


def current_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ConversationState | None:
    if update.effective_chat is None or update.effective_user is None:
        return None
    db = runtime(context).db
    key = (update.effective_chat.id, update.effective_user.id)
    # Most messages come from users in no flow: one lookup, no transaction.
    in_flow = db.lookup(
        "SELECT 1 FROM conversation_states WHERE chat_id = %s AND user_id = %s", key
    )
    if in_flow is None:
        return None
    with db.session() as session:
        state = get_state(
            session, chat_id=update.effective_chat.id, user_id=update.effective_user.id
        )
        if state is not None and state.flow not in registry(context).flows:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
            return None
        return state


async def dispatch_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Hand the message to the user's open flow, if any; True when a flow took it."""
    state = current_flow(update, context)
    if state is None:
        return False
    await registry(context).flows[state.flow](update, context, state)
    return True


async def route_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await dispatch_flow(update, context):
        return
    for predicate, handler in registry(context).message_routes:
        if predicate(update, context):
            await handler(update, context)
            return
    tr = translator(update, context)
    _ = tr.gettext
    await reply_html(update, what_i_take(update.effective_message, _, tr.locale), main_menu(_))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    keyboard = False
    if update.effective_chat and update.effective_user:
        with runtime(context).db.session() as session:
            keyboard = reply_keyboard_shown(clear_state(
                session, chat_id=update.effective_chat.id, user_id=update.effective_user.id
            ))
    if keyboard:  # a message carries one keyboard: the step's goes, then the menu comes
        await reply_html(update, _("Cancelled. Nothing was saved."), ReplyKeyboardRemove())
        await reply_html(update, _("What would you like to do?"), main_menu(_))
        return
    await reply_html(update, _("Cancelled. Nothing was saved."), main_menu(_))


# --- main menu ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str  # msgid, translated when shown


MENU = (
    MenuEntry("services", N_("📋 Services")),
    MenuEntry("status", N_("🔎 Application status")),
    MenuEntry("complaint", N_("📣 Complaint")),
    MenuEntry("survey", N_("⭐ Survey")),
    MenuEntry("queue", N_("🎫 Book a visit")),
    MenuEntry("language", N_("🌐 Language")),
)


def main_menu(_: Callable[[str], str]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(_(m.label), callback_data=CallbackData("menu", m.key).pack())
        for m in MENU
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


# --- menu buttons and fallbacks -------------------------------------------------------------


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no feature recognises: old, or forged. Say so, change nothing."""
    _ = translator(update, context).gettext
    await update.callback_query.answer(
        _("This button is no longer valid. Please start again from the menu."), show_alert=True
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await reply_html(
        update, _("I don't know that command. Type /help to see what I can do."), main_menu(_)
    )


def user_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The role of the user behind the update, from the database (or ADMIN_IDS)."""
    from bot.people.roles import role_of

    rt = runtime(context)
    if update.effective_user is None:
        return "citizen"
    with rt.db.session() as session:
        return role_of(session, update.effective_user.id, rt.settings.admin_ids)


def staff_only(required: str) -> Callable[[Handler], Handler]:
    """Guard a command: anyone below ``required`` gets exactly the unknown-command answer,
    so a citizen cannot even tell that the command exists."""
    from functools import wraps

    from bot.people.roles import has_role

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            if not has_role(user_role(update, context), required):
                if update.callback_query is not None:
                    await unknown_button(update, context)
                else:
                    await unknown_command(update, context)
                return
            user = update.effective_user
            if user is not None:  # colleagues see staff by name (bot/people/staff_names.py)
                from bot.people.staff_names import remember_staff_name

                with runtime(context).db.session() as session:
                    remember_staff_name(session, user.id, user.full_name)
            await handler(update, context)

        return guarded

    return decorate
