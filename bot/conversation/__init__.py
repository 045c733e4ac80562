"""A conversation, not a search box: dialogue context per chat, variants, several questions in
one message, life events, free-form entries, small talk and intents hidden in questions.

``install(rt)`` reads the knowledge folder's situations and entries, builds the Understander
into the runtime's ``conversation`` slot, and rebuilds it whenever the knowledge base is
reloaded (bot/reload); handlers/conversation.py is the chat side."""

from __future__ import annotations

import logging

from bot.conversation.library import Library, load_library
from bot.conversation.understanding import Understander
from bot.core.runtime import Runtime
from bot.qa.knowledge import KnowledgeError

log = logging.getLogger(__name__)


def _build(rt: Runtime) -> Understander:
    """Validate the situations and entries (KnowledgeError with file:line problems) and put
    the Understander of the runtime's knowledge base on the runtime."""
    understander = Understander(rt.knowledge, rt.matcher, load_library(rt.knowledge))
    rt.conversation = understander
    return understander


def _rebuild_after_reload(rt: Runtime) -> None:
    """The reload validated the situations and entries before switching (bot/reload, load);
    should the folder have changed since, the services are still answered, without them."""
    try:
        _build(rt)
    except KnowledgeError as exc:
        log.error("situations or entries invalid after a reload, served without them: %s", exc)
        rt.conversation = Understander(rt.knowledge, rt.matcher, Library())


def install(rt: Runtime) -> Understander:
    """At start-up: build the Understander (KnowledgeError when the situations or entries are
    invalid) and follow the knowledge reloads."""
    understander = _build(rt)
    if _rebuild_after_reload not in rt.events.knowledge_reloaded:
        rt.events.knowledge_reloaded.append(_rebuild_after_reload)
    return understander


def understander_of(rt: Runtime) -> Understander:
    understander = rt.conversation
    if understander is None or understander.kb is not rt.knowledge:
        understander = _build(rt)  # a runtime built without install (the tests' own)
    return understander


__all__ = ["Library", "Understander", "install", "understander_of"]
