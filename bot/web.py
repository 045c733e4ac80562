"""The public pages that features add to the bot's web server (webhook mode,
bot/webhook/server.py) and to the offline server (bot/offline.py), beside the staff console.

Each feature registers a factory of Starlette routes on its Runtime (``rt.web_pages``) in its
``register(app)``, so the Application must be built before the routes are asked for.
"""

from __future__ import annotations

from typing import Any

from bot.core.runtime import Runtime


def page_routes(rt: Runtime) -> list[Any]:
    return [route for factory in rt.web_pages for route in factory(rt)]
