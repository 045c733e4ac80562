"""Reports off the event loop: other chats are answered while the IKM chart renders."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from bot.core.models import Staff
from handlers.surveys import ikm as survey_handlers
from tests.webhook.test_server import emulated  # noqa: F401 - the webhook-mode fixture

SUPERVISOR = 9101
CITIZEN = 2101


async def test_other_chats_are_answered_while_the_chart_renders(
    emulated, database_url, monkeypatch  # noqa: F811
):
    instance = await emulated.start_instance(database_url)
    with instance.rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    supervisor = emulated.user(SUPERVISOR, "Kepala", language_code="id")
    citizen = emulated.user(CITIZEN)

    # The real chart, held until the citizen has been answered: rendered on the event loop,
    # it would hold up that answer (the wait below times out, the chart goes first).
    rendering, citizen_answered = threading.Event(), threading.Event()
    real = survey_handlers.render_chart

    def held_chart(*args: Any, **kwargs: Any) -> bytes:
        rendering.set()
        citizen_answered.wait(timeout=10)
        return real(*args, **kwargs)

    monkeypatch.setattr(survey_handlers, "render_chart", held_chart)
    await supervisor.send("/ikm month")
    assert await asyncio.to_thread(rendering.wait, 10)
    await citizen.send("/start")
    greeting = await citizen.reply(timeout=20)
    citizen_answered.set()
    # No responses yet: no file of individual answers.
    figures, chart, summary = await supervisor.replies(3, timeout=20)

    assert chart.photo and summary.document and "Belum ada jawaban lengkap" in figures.text
    events = emulated.emulator.events
    greeted_at = next(e.seq for e in events if e.chat_id == CITIZEN and e.kind == "bot")
    charted_at = next(e.seq for e in events if e.chat_id == SUPERVISOR and e.kind == "bot"
                      and e.method == "sendPhoto")
    assert greeted_at < charted_at, "the citizen waited for the chart"
    assert greeting.text or greeting.buttons
