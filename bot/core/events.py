"""Events one feature announces and others follow, kept per running bot (on its Runtime).

Per runtime, not per process: the tests build several Applications in one process, and each
must see only the subscriptions made for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.applications.models import Application
    from bot.core.runtime import Runtime

# Called inside the transaction of the change, right after an application reaches "completed".
# A subscriber may add rows (e.g. enqueue a survey invitation); raising aborts the whole change.
ApplicationCompleted = Callable[["Session", "Runtime", "Application"], None]
# Called right after a running instance switched to a new knowledge base (bot/reload), for what
# a feature derives from it.
KnowledgeReloaded = Callable[["Runtime"], None]


@dataclass
class Events:
    application_completed: list[ApplicationCompleted] = field(default_factory=list)
    knowledge_reloaded: list[KnowledgeReloaded] = field(default_factory=list)
