"""What every handler needs, built once per process and shared through the Application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.config import Settings
from bot.core.db import Database
from bot.core.events import Events
from bot.core.workdays import WorkingCalendar

if TYPE_CHECKING:
    # Types only: the core never imports a feature at run time.
    from bot.qa.knowledge import KnowledgeBase
    from bot.qa.matching import Matcher
    from bot.surveys.questionnaire import SurveyConfig
    from handlers.outbox_delivery import OutboxSender


@dataclass
class Runtime:
    settings: Settings
    db: Database
    knowledge: KnowledgeBase | None = None
    matcher: Matcher | None = None
    calendar: WorkingCalendar | None = None
    events: Events = field(default_factory=Events)
    # Loaded once per process by the feature that owns each (see bot.surveys.survey_config and
    # the outbox sender).
    survey_config: SurveyConfig | None = None
    outbox_sender: OutboxSender | None = None

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz
