"""Wires the python-telegram-bot Application: every handler and guard, in order, in one place."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.config import SUPPORTED_LOCALES, Settings
from bot.db import Database
from bot.runtime import Runtime
from bot.transport import ON_ACCEPTED, AiohttpRequest

log = logging.getLogger(__name__)


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Database (migrated), knowledge base (validated) and calendar: everything but Telegram."""
    from bot.applications import status_mapping_problems
    from bot.conversation import install as install_conversation
    from bot.knowledge import KnowledgeError, load_knowledge
    from bot.matching import Matcher
    from bot.schema import check_schema_not_newer
    from bot.surveys import install as install_surveys
    from bot.workdays import WorkingCalendar

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
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.telegram_max_calls_per_second, max_retries=3
            )
        )
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
    # Order matters: within a group the first matching handler wins, so every feature comes
    # before the fallbacks, and the guards (negative groups) before everything.
    from handlers import (
        common,
        complaints,
        conversation,
        production,
        qa,
        sender,
        status,
        surveys,
    )

    common.register(app)
    production.register(app)  # guards in negative groups: they run before every feature
    conversation.register(app)  # before qa: its message route reads questions in context
    qa.register(app)
    status.register(app)
    complaints.register(app)
    surveys.register(app)
    sender.register(app)
    common.register_fallbacks(app)
    app.add_error_handler(common.error_handler)


class CountingRequest(AiohttpRequest):
    """The Bot API transport, counting sends, 429s and failures for /metrics, and keeping the
    reply journal of the update being handled (bot/replies.py): a call a taken-over update had
    already made is answered from the journal instead of being made again, and the update's
    last message is held back for the webhook's answer."""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        from bot.metrics import record_api_call
        from bot.replies import CURRENT_JOURNAL, changes_something

        api_method = url.rsplit("/", 1)[-1]
        journal = CURRENT_JOURNAL.get()
        if journal is None or not changes_something(api_method):
            status, body = await super().do_request(url, method, *args, **kwargs)
            record_api_call(api_method, status)
            return status, body
        key, recorded = journal.next_call(api_method)
        if recorded is not None:
            return 200, recorded
        # A message held for the webhook's answer goes first: this call comes after it.
        await journal.release()
        request_data = kwargs.get("request_data", args[0] if args else None)
        if request_data is not None and not request_data.contains_files:
            params = request_data.parameters
            if journal.may_hold(api_method, params):

                async def send() -> tuple[int, bytes]:
                    return await self._recorded_call(journal, key, api_method, url, method,
                                                     *args, **kwargs)

                return 200, journal.hold(key, params, send)
        status, body = await self._recorded_call(
            journal, key, api_method, url, method, *args, **kwargs
        )
        if status != 200:
            excused = journal.excuse(api_method, status, body)
            if excused is not None:
                return 200, excused
        return status, body

    async def _recorded_call(
        self, journal: Any, key: str, api_method: str, url: str, method: str, *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Make the call and write it in the journal once Telegram accepted it: for a call that
        puts a new message in a chat, on PostgreSQL, at once in the transport's thread (see
        ON_ACCEPTED); an edit or a callback answer done twice changes nothing, and is recorded
        here."""
        from bot.metrics import record_api_call
        from bot.replies import puts_new_message

        token = None
        # On PostgreSQL only: on SQLite a write from another thread would end a session of the
        # event loop's that read before it and writes after it ("database is locked", WAL's
        # stale snapshot); SQLite is one process anyway, and a killed one restarts.
        if puts_new_message(api_method) and journal.db.is_postgres:
            token = ON_ACCEPTED.set(lambda body: journal.record(key, body))
        try:
            status, body = await super().do_request(url, method, *args, **kwargs)
        finally:
            if token is not None:
                ON_ACCEPTED.reset(token)
        record_api_call(api_method, status)
        if status == 200 and not journal.written(key):
            journal.record(key, body)  # not recorded in the thread (or its write failed)
        return status, body


async def _post_init(app: Application) -> None:
    from handlers.common import citizen_commands

    rt: Runtime = app.bot_data["runtime"]
    default = rt.settings.default_locale
    for locale in SUPPORTED_LOCALES:
        commands = [BotCommand(name, desc) for name, desc in citizen_commands(locale)]
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
    from handlers.sender import close_sender

    rt: Runtime = app.bot_data["runtime"]
    await close_sender(rt)
    rt.db.dispose()
