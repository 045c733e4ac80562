"""What the features register on one Application: conversation flows, routes for plain
messages, and the commands of Telegram's menu.

Kept in the Application's bot_data, not in the process: the tests build many Applications in
one process, and each must see only what was registered on it. The order of the features in
handlers/features.py is the order of the menu and of the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, Update
from telegram.ext import Application, ContextTypes

from bot.core.i18n import Translator
from bot.core.models import ConversationState
from bot.core.runtime import Runtime

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
FlowHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, ConversationState], Awaitable[None]]
MessagePredicate = Callable[[Update, ContextTypes.DEFAULT_TYPE], bool]
# Another feature's lines on top of an answer about a service (None: no service matched).
AnswerBanner = Callable[[Runtime, str | None, Translator], list[str]]
# Another feature's buttons under an answer about a service.
ServiceButton = Callable[[Runtime, str, Translator], list[InlineKeyboardButton]]

REGISTRY_KEY = "feature_registry"


@dataclass
class FeatureRegistry:
    # A feature's multi-step conversation, by name: free messages go to it while the user is in
    # it (the user's step is kept in the database, see bot/people/conversations.py).
    flows: dict[str, FlowHandler] = field(default_factory=dict)
    # Handlers for plain messages (no command) when the user is in no flow; the first whose
    # predicate holds takes the message.
    message_routes: list[tuple[MessagePredicate, Handler]] = field(default_factory=list)
    # (Indonesian name, English name, description msgid), in the order Telegram shows them.
    menu_commands: list[tuple[str, str, str]] = field(default_factory=list)
    # The staff's commands: (role, Indonesian name, English name, description msgid), where
    # role is the lowest that may use it (officer, supervisor, admin). Shown in /help and in
    # the menu of each staff member's own chat (bot/people/menus.py), never to citizens.
    staff_commands: list[tuple[str, str, str, str]] = field(default_factory=list)
    # Additions to the answers about a service (the queue's disruption notices and its "Book a
    # visit" button), in the order of the features.
    answer_banners: list[AnswerBanner] = field(default_factory=list)
    service_buttons: list[ServiceButton] = field(default_factory=list)
    # Commands that act on the dialogue's subject instead of starting a new one (/antrean books
    # the service the citizen was just asking about): they do not clear the dialogue context.
    subject_commands: set[str] = field(default_factory=set)

    def add_flow(self, name: str, handler: FlowHandler) -> None:
        self.flows[name] = handler

    def add_message_route(self, predicate: MessagePredicate, handler: Handler) -> None:
        self.message_routes.append((predicate, handler))

    def add_menu_command(self, id_name: str, en_name: str, description: str) -> None:
        self.menu_commands.append((id_name, en_name, description))

    def add_staff_command(self, role: str, id_name: str, en_name: str, description: str) -> None:
        self.staff_commands.append((role, id_name, en_name, description))

    def add_answer_banner(self, hook: AnswerBanner) -> None:
        self.answer_banners.append(hook)

    def add_service_button(self, hook: ServiceButton) -> None:
        self.service_buttons.append(hook)

    def keep_subject_for(self, *commands: str) -> None:
        self.subject_commands.update(name.lower() for name in commands)


def registry_of(app: Application) -> FeatureRegistry:
    return app.bot_data.setdefault(REGISTRY_KEY, FeatureRegistry())


def registry(context: ContextTypes.DEFAULT_TYPE) -> FeatureRegistry:
    return registry_of(context.application)
