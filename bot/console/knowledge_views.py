"""Knowledge-base editing in the console (not built yet: no routes)."""

from __future__ import annotations

from starlette.routing import Route

from bot.runtime import Runtime


def routes(rt: Runtime) -> list[Route]:
    return []
