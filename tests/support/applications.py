"""Runtime for the application-status tests: the project's knowledge base plus one service that
renames and omits steps."""

from __future__ import annotations

from dataclasses import replace

from bot.core.config import PROJECT_ROOT, Settings
from bot.core.db import Database
from bot.core.runtime import Runtime
from bot.core.workdays import WorkingCalendar
from bot.qa.knowledge import KnowledgeBase
from bot.qa.loader import load_knowledge

# A service whose own standard names "ready for pickup" differently and skips verification.
STEPPED = "stepped-service"
STEPPED_STATUSES = {
    "in_verification": False,
    "ready_for_pickup": {"id": "Siap dikirim", "en": "Ready to post"},
}


def knowledge_with_steps() -> KnowledgeBase:
    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    base = kb.services["ktp-el"]
    stepped = base.model_copy(update={"id": STEPPED, "statuses": STEPPED_STATUSES})
    return replace(kb, services={**kb.services, STEPPED: stepped})


def make_runtime(db: Database, **settings: object) -> Runtime:
    config = Settings(
        database_url=db.url,
        telegram_bot_token=str(settings.pop("telegram_bot_token", "123:test")),
        _env_file=None,
        **settings,
    )
    kb = knowledge_with_steps()
    return Runtime(
        settings=config,
        db=db,
        knowledge=kb,
        calendar=WorkingCalendar(config.tz, closed_dates=kb.office.closed_dates),
    )
