"""Applications in the chat: citizens' lookups and follows (citizens), following by the receipt's
link or a shared phone number (following), officers' registering and updating (officers), the
receipt (receipt), the applicant's replies to "needs correction" and the answers
(replies). ``register`` adds them to an Application."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.core.i18n import N_
from handlers.applications.citizens import (
    cancel_lookup,
    menu_status,
    status_button,
    status_command,
    status_flow,
)
from handlers.applications.following import (
    PHONE_FLOW,
    ask_phone,
    is_contact,
    offer_button,
    phone_flow,
    shared_contact,
    start_with_status_link,
)
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
from handlers.applications.replies import (
    ANSWER_FLOW,
    REPLY_FLOW,
    answer_flow,
    answer_pressed,
    reply_flow,
    reply_pressed,
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
    features.add_flow(PHONE_FLOW, phone_flow)
    features.add_flow(REPLY_FLOW, reply_flow)
    features.add_flow(ANSWER_FLOW, answer_flow)
    features.add_message_route(is_staff_document, csv_document)
    features.add_message_route(is_contact, shared_contact)
    # /start st_<number>_<code>, the receipt's link, must be seen before menu's /start: an
    # earlier group, which stops the update only when it carries such a payload.
    app.add_handler(
        CommandHandler(
            "start",
            start_with_status_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start\s+st_"),
        ),
        GROUP_FEATURES - 1,
    )
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
    app.add_handler(CallbackQueryHandler(cancel_lookup, pattern=r"^st:cx$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(ask_phone, pattern=r"^st:ph$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(offer_button, pattern=r"^st:(pf|fa)(:|$)"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(reply_pressed, pattern=r"^st:rp:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(status_button, pattern=r"^st:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(answer_pressed, pattern=r"^ar:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(register_button, pattern=r"^rg:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(update_button, pattern=r"^up:"), GROUP_FEATURES)
