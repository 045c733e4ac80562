"""What every handler needs, built once per process and shared through the Application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.config import Settings
from bot.core.db import Database
from bot.core.events import Events
from bot.core.models import utcnow
from bot.core.workdays import WorkingCalendar

if TYPE_CHECKING:
    # Types only: the core never imports a feature at run time.
    from bot.conversation.understanding import Understander
    from bot.qa.knowledge import KnowledgeBase
    from bot.qa.matching import Matcher
    from bot.sendrate.budget import SendBudget
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
    # The bot's send budget, shared by the replies and the outbox (bot.sendrate.send_budget).
    send_budget: SendBudget | None = None
    # What the conversation feature reads messages with, rebuilt on a knowledge reload
    # (bot.conversation.install).
    conversation: Understander | None = None
    # The knowledge base version this instance serves, and the one it last refused to take
    # (bot/reload): -1 makes the next poll load the published one.
    knowledge_version: int = 0
    knowledge_refused: int | None = None
    # The staff console's rendered IKM charts, kept a few minutes: {key: (monotonic time, PNG)}.
    console_charts: dict[tuple[str, ...], tuple[float, bytes]] = field(default_factory=dict)
    # A fixed clock for tests of office hours and visit days; None is the real time.
    clock: Callable[[], datetime] | None = None
    # The public pages features add to the bot's web server and the offline server (the queue's
    # waiting-room board): factories of Starlette routes, registered by the features' register().
    web_pages: list[Callable[[Runtime], list[Any]]] = field(default_factory=list)
    # The command menus of each role, (role, locale) -> [(command, description)], set by the
    # Telegram layer (handlers/menu.py) for the staff's own menus (bot/people/menus.py); None
    # where no Application runs (the command line).
    command_menus: Callable[[str, str], list[tuple[str, str]]] | None = None
    # The bot's @username, known once the Application has started (its getMe); the HTTP API
    # builds the receipt's t.me link with it. None where no Application runs.
    bot_username: str | None = None

    def now(self) -> datetime:
        """The time the features act on: the test clock when one is set, else the real time."""
        return self.clock() if self.clock is not None else utcnow()

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz
