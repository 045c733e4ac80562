"""The features of the chat, in order: the one place that says what the bot can do.

Order matters. Within a handler group the first matching handler wins, so every feature comes
before the fallbacks, and the guards (negative groups) run before everything. The order of this
list is also the order of the commands in Telegram's menu and in /help, and the order in which
plain messages are offered to the features' routes (questions first, then staff documents).

A new feature adds its module here, with a ``register(app)`` that adds its handlers, flows,
message routes, menu commands and jobs (see handlers/registry.py).
"""

from __future__ import annotations

from telegram.ext import Application

from bot.privacy.kinds import register_all_kinds
from handlers import (
    api_tokens,
    applications,
    complaints,
    console,
    conversation,
    feedback,
    guards,
    menu,
    my_data,
    outbox_delivery,
    qa,
    queue,
    reload,
    staff,
    surveys,
)

FEATURES = (
    menu,  # /start, /help, /bahasa, /batal and the main menu
    guards,  # duplicate and flood guards, in a negative group
    conversation,  # free text as a question, read in the dialogue's context
    qa,  # browsing the services
    complaints,
    applications,
    staff,
    surveys,
    queue,  # /antrean: visits booked, called at the counter, the waiting-room board
    feedback,  # 👍/👎 under answers, Tanya petugas and the officers' replies
    reload,  # /muatulang and the poll for a new knowledge base
    console,  # /konsol: sign-in links to the staff console
    api_tokens,  # /token: the back-office API's named tokens, for admins
    my_data,
    outbox_delivery,
)


def register_features(app: Application) -> None:
    register_all_kinds()
    for feature in FEATURES:
        feature.register(app)
    menu.register_fallbacks(app)  # last: anything no feature took
    app.add_error_handler(menu.error_handler)
