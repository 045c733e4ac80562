"""Applications in the chat: citizens' lookups and follows (citizens), officers' registering and
updating (officers). ``register`` adds them to an Application."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.core.i18n import N_
from handlers.applications.citizens import menu_status, status_button, status_command, status_flow
from handlers.applications.officers import (
    csv_document,
    find_command,
    is_staff_document,
    overdue_command,
    register_button,
    register_command,
    register_flow_step,
    update_button,
    update_command,
    update_flow_step,
)
from handlers.common import GROUP_FEATURES
from handlers.registry import registry_of

OFFICER_COMMANDS = (
    ("register", "register", N_("Register an application handed in at the counter")),
    ("update", "update", N_("Change an application's status")),
    ("find", "find", N_("Find an application by number or name")),
    ("overdue", "overdue", N_("Applications past their promised date")),
)


def register(app: Application) -> None:
    features = registry_of(app)
    features.add_menu_command("cekstatus", "status", N_("Check an application's status"))
    for command in OFFICER_COMMANDS:
        features.add_staff_command("officer", *command)
    features.add_flow("status_lookup", status_flow)
    features.add_flow("register", register_flow_step)
    features.add_flow("update", update_flow_step)
    features.add_message_route(is_staff_document, csv_document)
    # Private chats only: a lookup, a receipt or a verification code must not land in a group.
    private = filters.ChatType.PRIVATE
    for names, callback in (
        (["cekstatus", "status"], status_command),
        (["register"], register_command),
        (["update"], update_command),
        (["find"], find_command),
        (["overdue"], overdue_command),
    ):
        app.add_handler(CommandHandler(names, callback, filters=private), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_status, pattern=r"^menu:status$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(status_button, pattern=r"^st:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(register_button, pattern=r"^rg:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(update_button, pattern=r"^up:"), GROUP_FEATURES)
