"""Satisfaction surveys in the chat: the questionnaire (questionnaire) and the index (ikm).
``register`` adds them to an Application."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core.runtime import Runtime
from bot.surveys.wiring import install
from handlers.common import GROUP_FEATURES
from handlers.registry import registry_of
from handlers.surveys.ikm import REPORT_PREFIX, ikm_button, ikm_command, report_button
from handlers.surveys.questionnaire import (
    FLOW,
    MENU_COMMANDS,
    menu_survey,
    suggestion_flow,
    survey_button,
    survey_command,
    tick,
)


def register(app: Application) -> None:
    rt: Runtime = app.bot_data["runtime"]
    install(rt)  # normally done by build_runtime already; idempotent
    app.add_handler(CommandHandler(["survei", "survey"], survey_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("ikm", ikm_command), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_survey, pattern=r"^menu:survey$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(survey_button, pattern=r"^sv:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(ikm_button, pattern=r"^ikm:"), GROUP_FEATURES)
    app.add_handler(
        CallbackQueryHandler(report_button, pattern=f"^{REPORT_PREFIX}:"), GROUP_FEATURES
    )
    features = registry_of(app)
    for command in MENU_COMMANDS:
        features.add_menu_command(*command)
    features.add_flow(FLOW, suggestion_flow)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            tick, interval=rt.settings.survey_tick_seconds, first=5, name="survey-invitations"
        )
