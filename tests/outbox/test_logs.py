"""Logs an operator can trust: a transient network error is one WARNING line with its reason,
and the client sessions are closed on every path."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

from bot.app import build_application
from handlers import outbox_delivery as outbox
from tests.support.applications import make_runtime
from tests.support.e2e import TOKEN


async def test_a_silent_telegram_is_one_warning_and_leaks_no_session(db, caplog):
    # A Bot API that accepts connections and never answers: the outbox's getMe times out
    # (after the transport's 5 s).
    done = asyncio.Event()
    # What earlier tests in this process left for the collector is theirs, not this test's:
    # collected now, so that the check at the end sees only the sessions opened here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    caplog.clear()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rt = make_runtime(db, telegram_bot_token=TOKEN,
                      telegram_api_base_url=f"http://127.0.0.1:{port}/bot")
    app = build_application(rt)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(2):  # two ticks: the second asks getMe again on the same client
                assert await outbox._background_drain(app, rt) == 0
        client = outbox.outbox_sender(rt).bot
        assert client is not None
        await outbox.close_sender(rt)
    finally:
        await app.bot.shutdown()  # the Application's own client, as app.shutdown() closes it
        done.set()
        server.close()
        await server.wait_closed()
    lines = [r for r in caplog.records if r.name == "handlers.outbox_delivery"]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
    assert all("Telegram did not answer (TimedOut" in r.getMessage() for r in lines)
    assert all(r.exc_info is None for r in lines)  # no traceback
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert outbox.outbox_sender(rt).bot is None
    # Every aiohttp session it opened is closed: none is reported unclosed when collected.
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.ERROR):
        warnings.simplefilter("always")
        gc.collect()
    assert not [w for w in caught if "Unclosed" in str(w.message)]
    assert "Unclosed client session" not in caplog.text
