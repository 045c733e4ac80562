"""Web pages that feature packages add to the bot's web server (webhook mode, bot/server.py)
and to the offline server (bot/offline.py): each registers a factory of Starlette routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RouteFactory = Callable[[Any], list[Any]]  # Runtime -> Starlette routes
PAGES: list[RouteFactory] = []


def register_pages(factory: RouteFactory) -> None:
    """Called once by a feature module at import; a second call with the same factory (a
    module reloaded by tests) changes nothing."""
    if factory not in PAGES:
        PAGES.append(factory)


def page_routes(rt: Any) -> list[Any]:
    return [route for factory in PAGES for route in factory(rt)]
