"""The bot's web pages (the staff console, /ikm, the waiting-room board: bot/web.py) on
127.0.0.1:PORT in a thread beside long polling (`run` with a token). In `serve` they are beside
the webhook, offline beside the web chat."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from starlette.applications import Starlette

from bot.core.runtime import Runtime
from bot.web import page_routes

log = logging.getLogger(__name__)


def pages_app(rt: Runtime) -> Starlette:
    """The pages the features registered; the Application must be built first."""
    return Starlette(routes=page_routes(rt))


class ConsoleServer:
    """uvicorn in a thread of the polling bot's process, on 127.0.0.1:PORT only, serving the
    features' pages (the Application must be built first)."""

    def __init__(self, rt: Runtime, host: str = "127.0.0.1") -> None:
        import uvicorn

        config = uvicorn.Config(
            pages_app(rt), host=host, port=rt.settings.port, log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    def start(self, wait: float = 5.0) -> bool:
        """Serve; False (and a warning) when the port cannot be had: the bot runs on."""
        config = self.server.config
        address = f"http://{config.host}:{config.port}/console/"
        # Bound here rather than by uvicorn, whose failure would be a traceback in a thread.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((config.host, config.port))
        except OSError as exc:
            sock.close()
            log.warning("the staff console is not served at %s: %s; choose another port with "
                        "PORT=N", address, exc.strerror or exc)
            return False
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + wait
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        log.info("staff console at %s", address)
        return True

    def stop(self, *_args: Any) -> None:
        if self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
