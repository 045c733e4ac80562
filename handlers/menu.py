"""The basic commands and the fallbacks: /start, /help, /bahasa, /batal, the main menu's
language button, the answer to anything no feature took, and the error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import N_, Translator
from bot.core.metrics import METRICS
from bot.core.text import escape
from bot.people.menus import sync_menu
from bot.people.roles import has_role
from bot.people.users import set_language
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    GROUP_FEATURES,
    cancel,
    edit_in_place,
    main_menu,
    reply_html,
    route_message,
    runtime,
    translator,
    unknown_button,
    unknown_command,
    user_role,
)
from handlers.registry import registry, registry_of

log = logging.getLogger(__name__)


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
    """The commands of the sender's role: the citizens' for everyone, then the staff's."""
    tr = translator(update, context)
    _ = tr.gettext
    features = registry(context)
    lines = [_("<b>What I can do</b>"), ""]
    for command in citizen_commands(features.menu_commands, tr.locale):
        lines.append(f"/{command[0]} - {escape(command[1])}")
    lines += [
        "",
        _("Or just type your question, for example: <i>syarat bikin KTP</i>."),
    ]
    role = user_role(update, context)
    staff = staff_commands(features.staff_commands, role, tr.locale)
    if staff:
        lines += ["", ROLE_HEADINGS[role](_), ""]
        lines += [f"/{name} - {escape(description)}" for name, description in staff]
    await reply_html(update, "\n".join(lines), main_menu(_))
    refresh_menu(update, context, role)


ROLE_HEADINGS = {
    "officer": lambda _: _("<b>For officers</b>"),
    "supervisor": lambda _: _("<b>For officers and supervisors</b>"),
    "admin": lambda _: _("<b>For staff and admins</b>"),
}


def refresh_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str) -> None:
    """The sender's own "/" menu, if it is not the one their role and language call for (an
    admin from ADMIN_IDS writing for the first time, a language just changed)."""
    if update.effective_user is None:
        return
    rt = runtime(context)
    with rt.db.session() as session:
        sync_menu(session, rt, update.effective_user.id, role=role)


# --- language ------------------------------------------------------------------------------

LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(LANGUAGE_NAMES[c], callback_data=CallbackData("lang", c).pack())]
            for c in SUPPORTED_LOCALES
        ]
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await reply_html(update, _("Choose your language:"), language_keyboard())


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    pressed = CallbackData.parse(query.data, "lang")
    code = pressed.action if pressed is not None and pressed.arg is None else ""
    if code not in SUPPORTED_LOCALES:
        await query.answer()
        return
    rt = runtime(context)
    with rt.db.session() as session:
        set_language(session, telegram_id=query.from_user.id, language=code)
        # A staff member's own menu follows the language they chose.
        sync_menu(session, rt, query.from_user.id)
    _ = Translator(code).gettext
    await query.answer()
    await edit_in_place(query.edit_message_text(_("Language set to English.")))
    await reply_html(update, _("What would you like to do?"), main_menu(_))


async def menu_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await language_command(update, context)


async def menu_coming_soon(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await update.callback_query.answer(_("Coming soon."), show_alert=True)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        # Telegram slow or unreachable for a moment (TimedOut included): not a bug, and the
        # apology below would most likely not get through either.
        METRICS.updates_lost.inc()
        log.warning("an update's reply could not be sent (%s: %s)",
                    type(context.error).__name__, context.error)
        return
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

STAFF_ROLES = ("officer", "supervisor", "admin")

# (Indonesian name, English name, description msgid); each feature adds its own after these.
BASIC_COMMANDS = (
    ("start", "start", N_("Main menu")),
    ("layanan", "services", N_("Browse services")),
    ("bahasa", "language", N_("Change language")),
    ("batal", "cancel", N_("Cancel what you are doing")),
    ("help", "help", N_("Help")),
)


def citizen_commands(
    commands: list[tuple[str, str, str]], locale: str
) -> list[tuple[str, str]]:
    """The menu's commands, named and described in ``locale``."""
    tr = Translator(locale)
    return [
        (id_name if locale == "id" else en_name, tr.gettext(desc))
        for id_name, en_name, desc in commands
    ]


def staff_commands(
    commands: list[tuple[str, str, str, str]], role: str, locale: str
) -> list[tuple[str, str]]:
    """The staff commands ``role`` may use, named and described in ``locale``: the officers'
    first, then the supervisors', then the admins'."""
    tr = Translator(locale)
    allowed = [r for r in STAFF_ROLES if has_role(role, r)]
    return [
        (id_name if locale == "id" else en_name, tr.gettext(desc))
        for wanted in allowed
        for needed, id_name, en_name, desc in commands
        if needed == wanted
    ]


def role_menu(app: Application) -> Callable[[str, str], list[tuple[str, str]]]:
    """The "/" menu of a role in a language: its staff commands, then the citizens'."""

    def menu(role: str, locale: str) -> list[tuple[str, str]]:
        features = registry_of(app)
        return staff_commands(features.staff_commands, role, locale) + citizen_commands(
            features.menu_commands, locale
        )

    return menu


def register(app: Application) -> None:
    for command in BASIC_COMMANDS:
        registry_of(app).add_menu_command(*command)
    # Read when a menu is queued, so the features registered after this one are in it.
    app.bot_data["runtime"].command_menus = role_menu(app)
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
