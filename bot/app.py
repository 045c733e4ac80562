"""Wires the python-telegram-bot Application: every handler and guard, in order, in one place."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeDefault
from telegram.ext import Application, ApplicationBuilder

from bot.core.config import SUPPORTED_LOCALES, Settings
from bot.core.db import Database
from bot.core.runtime import Runtime
from bot.sendrate import send_budget
from bot.webhook.rate_limiter import BudgetRateLimiter
from bot.webhook.transport import CountingRequest

log = logging.getLogger(__name__)


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Database (migrated), knowledge base (validated) and calendar: everything but Telegram."""
    from bot.applications.statuses import status_mapping_problems
    from bot.conversation import install as install_conversation
    from bot.core.schema import check_schema_not_newer
    from bot.core.workdays import WorkingCalendar
    from bot.qa.knowledge import KnowledgeError
    from bot.qa.loader import load_knowledge
    from bot.qa.matching import Matcher
    from bot.surveys.wiring import install as install_surveys

    db = Database(settings.database_url)
    check_schema_not_newer(db)
    if migrate:
        db.upgrade()
    knowledge = load_knowledge(settings.knowledge_dir)
    problems = status_mapping_problems(knowledge)
    if problems:
        raise KnowledgeError(problems)
    rt = Runtime(
        settings=settings,
        db=db,
        knowledge=knowledge,
        matcher=Matcher(knowledge),
        calendar=WorkingCalendar(settings.tz, closed_dates=knowledge.office.closed_dates),
    )
    install_surveys(rt)  # validates the questionnaire; completed applications invite citizens
    install_conversation(rt)  # validates the situations and entries beside the services
    return rt


def build_application(rt: Runtime, *, token: str | None = None) -> Application:
    settings = rt.settings
    builder = (
        ApplicationBuilder()
        .token(token or settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_url.replace("/bot", "/file/bot", 1))
        # One send budget for the bot across every instance (bot/sendrate), replies first.
        .rate_limiter(BudgetRateLimiter(send_budget(rt), max_retries=3))
        .request(CountingRequest(connection_pool_size=64))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(False)
    )
    app = builder.build()
    app.bot_data["runtime"] = rt
    register_handlers(app)
    return app


def register_handlers(app: Application) -> None:
    # The features in their order (handlers/features.py): imported here, not at the top, so
    # the command line starts without loading every handler.
    from handlers.features import register_features

    register_features(app)


async def _post_init(app: Application) -> None:
    from handlers.menu import citizen_commands
    from handlers.registry import registry_of

    rt: Runtime = app.bot_data["runtime"]
    rt.bot_username = app.bot.username  # the receipt's t.me link in the HTTP API
    default = rt.settings.default_locale
    for locale in SUPPORTED_LOCALES:
        commands = [
            BotCommand(name, desc)
            for name, desc in citizen_commands(registry_of(app).menu_commands, locale)
        ]
        await app.bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if locale == default else locale,
        )
        if locale == default:
            # Users whose Telegram speaks the default language get it too, explicitly.
            await app.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=locale
            )


async def _post_shutdown(app: Application) -> None:
    from handlers.outbox_delivery import close_sender

    rt: Runtime = app.bot_data["runtime"]
    await close_sender(rt)
    rt.db.dispose()
