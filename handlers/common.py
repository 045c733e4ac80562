"""Shared handler plumbing and the basic commands: /start, /help, /bahasa, the main menu."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import SUPPORTED_LOCALES
from bot.conversations import clear_state, get_state
from bot.i18n import N_, Translator
from bot.models import ConversationState
from bot.runtime import Runtime
from bot.text import escape, split_message
from bot.users import set_language, user_language

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
FlowHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, ConversationState], Awaitable[None]]

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
    double press, or an update handled again after a takeover (bot/replies.py), edits to what
    is there, and Telegram refuses that as "message is not modified", no error for the user."""
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

FLOWS: dict[str, FlowHandler] = {}


def register_flow(name: str, handler: FlowHandler) -> None:
    """A feature's multi-step conversation: free messages go to it while the user is in it."""
    FLOWS[name] = handler


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
        if state is not None and state.flow not in FLOWS:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
            return None
        return state


async def dispatch_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Hand the message to the user's open flow, if any; True when a flow took it."""
    state = current_flow(update, context)
    if state is None:
        return False
    await FLOWS[state.flow](update, context, state)
    return True


MessagePredicate = Callable[[Update, ContextTypes.DEFAULT_TYPE], bool]
MESSAGE_ROUTES: list[tuple[MessagePredicate, Handler]] = []


def register_message_route(predicate: MessagePredicate, handler: Handler) -> None:
    """A feature's handler for plain messages (no command) when the user is in no flow.

    Routes are tried in registration order; the first whose predicate holds takes the message.
    """
    MESSAGE_ROUTES.append((predicate, handler))


async def route_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await dispatch_flow(update, context):
        return
    for predicate, handler in MESSAGE_ROUTES:
        if predicate(update, context):
            await handler(update, context)
            return
    _ = translator(update, context).gettext
    await reply_html(
        update, _("I can only read text messages here. Type your question."), main_menu(_)
    )


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    if update.effective_chat and update.effective_user:
        with runtime(context).db.session() as session:
            clear_state(
                session, chat_id=update.effective_chat.id, user_id=update.effective_user.id
            )
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
    buttons = [InlineKeyboardButton(_(m.label), callback_data=f"menu:{m.key}") for m in MENU]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    kb = runtime(context).knowledge
    office_name = escape(kb.office.name)
    lines = [
        _("Hello! I am the assistant of {office}.").format(office=f"<b>{office_name}</b>"),
        _("Ask me about any service: requirements, fees, how long it takes, where and when."),
    ]
    promise = kb.office.promise(tr.locale)
    if promise:
        lines += ["", f"<i>{escape(promise)}</i>"]
    await reply_html(update, "\n".join(lines), main_menu(_))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    lines = [_("<b>What I can do</b>"), ""]
    for command in citizen_commands(tr.locale):
        lines.append(f"/{command[0]} - {escape(command[1])}")
    lines += [
        "",
        _("Or just type your question, for example: <i>syarat bikin KTP</i>."),
    ]
    await reply_html(update, "\n".join(lines), main_menu(_))


# --- language ------------------------------------------------------------------------------

LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(LANGUAGE_NAMES[c], callback_data=f"lang:{c}")]
         for c in SUPPORTED_LOCALES]
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await reply_html(update, _("Choose your language:"), language_keyboard())


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    code = (query.data or "").removeprefix("lang:")
    if code not in SUPPORTED_LOCALES:
        await query.answer()
        return
    with runtime(context).db.session() as session:
        set_language(session, telegram_id=query.from_user.id, language=code)
    _ = Translator(code).gettext
    await query.answer()
    await edit_in_place(query.edit_message_text(_("Language set to English.")))
    await reply_html(update, _("What would you like to do?"), main_menu(_))


# --- menu buttons and fallbacks -------------------------------------------------------------


async def menu_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await language_command(update, context)


async def menu_coming_soon(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await update.callback_query.answer(_("Coming soon."), show_alert=True)


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


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        _ = translator(update, context).gettext
        try:
            await update.effective_chat.send_message(
                _("Sorry, something went wrong on our side. Please try again in a moment.")
            )
        except Exception:  # noqa: BLE001 - telling the user is best effort
            log.warning("could not tell the user about the error", exc_info=True)


# --- commands shown in Telegram's menu --------------------------------------------------------

# (Indonesian name, English name, description msgid); features append their own.
CITIZEN_COMMANDS: list[tuple[str, str, str]] = [
    ("start", "start", N_("Main menu")),
    ("layanan", "services", N_("Browse services")),
    ("bahasa", "language", N_("Change language")),
    ("batal", "cancel", N_("Cancel what you are doing")),
    ("help", "help", N_("Help")),
]


def citizen_commands(locale: str) -> list[tuple[str, str]]:
    tr = Translator(locale)
    return [
        (id_name if locale == "id" else en_name, tr.gettext(desc))
        for id_name, en_name, desc in CITIZEN_COMMANDS
    ]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start), GROUP_FEATURES)
    app.add_handler(CommandHandler("help", help_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["bahasa", "language"], language_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["batal", "cancel"], cancel), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(language_chosen, pattern=r"^lang:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_language, pattern=r"^menu:language$"), GROUP_FEATURES)


def register_fallbacks(app: Application) -> None:
    """Last: anything no feature took. Registered after every feature module."""
    app.add_handler(CallbackQueryHandler(menu_coming_soon, pattern=r"^menu:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(unknown_button), GROUP_FEATURES)
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command), GROUP_FEATURES)
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, route_message),
        GROUP_FEATURES,
    )


def user_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The role of the user behind the update, from the database (or ADMIN_IDS)."""
    from bot.roles import role_of

    rt = runtime(context)
    if update.effective_user is None:
        return "citizen"
    with rt.db.session() as session:
        return role_of(session, update.effective_user.id, rt.settings.admin_ids)


def staff_only(required: str) -> Callable[[Handler], Handler]:
    """Guard a command: anyone below ``required`` gets exactly the unknown-command answer,
    so a citizen cannot even tell that the command exists."""
    from functools import wraps

    from bot.roles import has_role

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            if not has_role(user_role(update, context), required):
                if update.callback_query is not None:
                    await unknown_button(update, context)
                else:
                    await unknown_command(update, context)
                return
            await handler(update, context)

        return guarded

    return decorate
