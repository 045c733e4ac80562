"""The survey feature on a running bot: the subscription that invites the citizen of every
completed application."""

from __future__ import annotations

from bot.core.runtime import Runtime
from bot.surveys.invitations import invite_for_application
from bot.surveys.questionnaire import survey_config

# --- wiring to the runtime -------------------------------------------------------------------



def install(rt: Runtime) -> None:
    """Load (and so validate) the questionnaire, and invite the citizen of every application
    that is completed from now on, whether the change comes from the chat or the HTTP API."""
    survey_config(rt)
    if invite_for_application not in rt.events.application_completed:
        rt.events.application_completed.append(invite_for_application)
