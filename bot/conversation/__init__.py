"""A conversation, not a search box: dialogue context per chat, variants, several questions in
one message, life events, free-form entries, small talk and intents hidden in questions.

``install(rt)`` reads the knowledge folder's situations and entries and builds the
Understander once per process; handlers/conversation.py is the chat side."""

from __future__ import annotations

from typing import Any

from bot.conversation.library import Library, load_library
from bot.conversation.understanding import Understander

EXTRA_KEY = "conversation"


def install(rt: Any) -> Understander:
    """Validate the situations and entries (KnowledgeError with file:line problems) and keep
    the Understander on the runtime."""
    library = load_library(rt.knowledge)
    understander = Understander(rt.knowledge, rt.matcher, library)
    rt.extras[EXTRA_KEY] = understander
    return understander


def understander_of(rt: Any) -> Understander:
    understander = rt.extras.get(EXTRA_KEY)
    if understander is None or understander.kb is not rt.knowledge:
        understander = install(rt)  # the knowledge base was swapped (a reload)
    return understander


__all__ = ["Library", "Understander", "install", "understander_of"]
