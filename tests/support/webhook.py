"""Webhook mode for tests outside tests/webhook: `servicebot serve` in the test's loop (the
runtime, the Application and create_server_app on uvicorn), the emulator pushing updates to it.

    async with webhook_bot(database_url, complaints_chat_id=-100) as bot:
        citizen = bot.user(1001)           # the harness's ChatUser, as in tests/support/e2e.py
        await citizen.send("/start")
        await citizen.reply()
        await bot.finished()                # every update taken is finished (rows settled)

``bot`` is a BotHarness whose ``rt`` is the instance's runtime; the bot's ERROR records fail
the test as with the polling harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from bot.emulator import Emulator
from tests.support.e2e import REPO, TOKEN, BotHarness

SECRET = "s3cret_Token-for-tests"


class QuietServer(uvicorn.Server):
    """uvicorn inside the test's loop; signals stay with pytest."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


@contextlib.asynccontextmanager
async def webhook_bot(
    database_url: str, *, token: str = TOKEN, secret: str = SECRET, **settings: Any
) -> AsyncIterator[BotHarness]:
    from bot.app import build_application, build_runtime
    from bot.core.config import load_settings
    from bot.webhook.server import create_server_app, listening_socket

    harness = BotHarness(database_url, emulator=Emulator(token))
    await harness.server.start()
    logging.getLogger().addHandler(harness._errors)
    sock = listening_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    harness.rt = build_runtime(
        load_settings(
            database_url=database_url,
            telegram_bot_token=token,
            telegram_api_base_url=harness.server.api_url,
            knowledge_dir=REPO / "knowledge",
            webhook_url=url,
            webhook_secret=secret,
            **settings,
        )
    )
    app = create_server_app(harness.rt, build_application(harness.rt))
    server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    harness.webhook_url = url
    harness.finished = lambda timeout=8.0: _finished(harness, timeout)  # type: ignore[attr-defined]
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield harness
    finally:
        server.should_exit = True
        await task
        await harness.server.stop()
        logging.getLogger().removeHandler(harness._errors)
    if harness.bot_errors and not harness.tolerate_errors:
        pytest.fail("the bot logged: " + "; ".join(harness.bot_errors))


async def _finished(harness: BotHarness, timeout: float) -> None:
    """Wait until the emulator has delivered every update and the instance finished each (the
    database's state, which the emulator is not told of: looked at every 20 ms)."""
    from bot.webhook.store import count_unfinished

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while harness.emulator.updates or count_unfinished(harness.rt.db):
        if loop.time() > deadline:
            pytest.fail(f"updates still unfinished after {timeout}s")
        await asyncio.sleep(0.02)
