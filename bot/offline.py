"""Offline mode: the unchanged bot against the local Bot API emulator, chatted with in a browser."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

from bot.core.config import Settings
from bot.emulator import Emulator, EmulatorServer

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never reachable from the network: the chat has no login
# Any well-formed token works: the emulator is the only server that ever sees it.
OFFLINE_TOKEN = "7000000001:offline-web-chat"


class PortInUse(Exception):
    """The chosen port cannot be bound; the message is one line for the terminal."""


async def serve_offline(
    settings: Settings,
    *,
    port: int,
    ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the web chat on 127.0.0.1:``port`` and run the bot against it until ``stop``.

    ``ready(url)`` is called once the bot is polling. Without ``stop``, SIGINT and SIGTERM end
    it. ``port=0`` picks a free port. Raises PortInUse when the port cannot be bound.
    """
    from bot.app import build_application, build_runtime

    stop = stop or _stop_on_signals()
    emulator = Emulator(OFFLINE_TOKEN, bot_username="servicebot_offline_bot", flood_limits=False)
    server = EmulatorServer(emulator, host=HOST, port=port)
    try:
        await server.start()
    except OSError as exc:
        raise PortInUse(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    app: Any = None
    try:
        live = settings.model_copy(
            update={
                "telegram_bot_token": OFFLINE_TOKEN,
                "telegram_api_base_url": server.api_url,
                "port": server.port,  # the one picked when asked for 0: the console's links
            }
        )
        # Migrating and loading the knowledge base block; the page can already load meanwhile.
        rt = await asyncio.to_thread(build_runtime, live)
        emulator.bot_user["first_name"] = rt.knowledge.office.name
        app = build_application(rt)
        from bot.web import page_routes

        # The features' pages beside the web chat: the console, /ikm, the waiting-room board;
        # and the role a new user of the web chat picks (this demo only).
        server.add_routes(page_routes(rt) + role_routes(rt))
        # The steps of Application.run_polling, on this loop and without its signal handling.
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        if ready is not None:
            ready(server.base_url)
        await stop.wait()
    finally:
        if app is not None:
            await _stop_application(app)
        await server.stop()


async def _stop_application(app: Any) -> None:
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


def role_routes(rt: Any) -> list[Any]:
    """``POST /_offline/users/{id}/role`` ({"role": ..., "language_code": ...}): the role a
    user created in the web chat takes, given in the staff records as /officer would (admin
    included), with their "/" menu queued. ``GET /_offline/roles`` tells the page it may offer
    roles. Served by the offline runner only: no deployed bot has these routes."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bot.applications.errors import InvalidInput
    from bot.core.config import SUPPORTED_LOCALES
    from bot.people.menus import sync_menu
    from bot.people.roles import role_of
    from bot.people.staff import DEMO_ROLES, set_demo_role

    async def roles(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "roles": list(DEMO_ROLES)})

    async def give(request: Request) -> JSONResponse:
        try:
            telegram_id = int(request.path_params["user_id"])
            data = await request.json()
            role = str(data["role"])
            language = str(data.get("language_code") or rt.settings.default_locale)
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"ok": False, "error": "send {\"role\": ...}"}, status_code=400)
        if telegram_id <= 0:
            return JSONResponse({"ok": False, "error": "a user id is positive"}, status_code=400)
        if language not in SUPPORTED_LOCALES:
            language = rt.settings.default_locale
        try:
            with rt.db.session() as session:
                set_demo_role(session, telegram_id=telegram_id, role=role, language=language)
                sync_menu(session, rt, telegram_id)
                given = role_of(session, telegram_id, rt.settings.admin_ids)
        except InvalidInput:
            return JSONResponse(
                {"ok": False, "error": f"role: one of {', '.join(DEMO_ROLES)}"}, status_code=400
            )
        return JSONResponse({"ok": True, "role": given})

    return [
        Route("/_offline/roles", roles, methods=["GET"]),
        Route("/_offline/users/{user_id}/role", give, methods=["POST"]),
    ]


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; there Ctrl-C arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
