"""What every handler needs, built once per process and shared through the Application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.db import Database
from bot.workdays import WorkingCalendar


@dataclass
class Runtime:
    settings: Settings
    db: Database
    knowledge: Any = None  # bot.knowledge.KnowledgeBase
    matcher: Any = None  # bot.matching.Matcher
    calendar: WorkingCalendar | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def tz(self):  # noqa: ANN201 - ZoneInfo
        return self.settings.tz
