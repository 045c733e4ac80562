"""Serving the console in each mode: beside the webhook (`serve`), beside the web chat
(offline), and on 127.0.0.1:PORT in a thread beside long polling (`run` with a token)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.applications import Starlette

from bot.runtime import Runtime

log = logging.getLogger(__name__)


def add_to(app: Starlette, rt: Runtime) -> None:
    """Put the console's routes first on a running Starlette app (the emulator's)."""
    from bot.console.web import routes

    app.router.routes[0:0] = routes(rt)


def console_app(rt: Runtime) -> Starlette:
    from bot.console.web import routes

    return Starlette(routes=routes(rt))


class ConsoleServer:
    """uvicorn in a thread of the polling bot's process, on 127.0.0.1:PORT only."""

    def __init__(self, rt: Runtime, host: str = "127.0.0.1") -> None:
        import uvicorn

        config = uvicorn.Config(
            console_app(rt), host=host, port=rt.settings.port, log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="console", daemon=True)

    def start(self) -> None:
        self.thread.start()
        log.info("staff console on http://%s:%s/console/", self.server.config.host,
                 self.server.config.port)

    def stop(self, *_args: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
