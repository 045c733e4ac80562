"""Unanswered questions in the console (being written)."""

from __future__ import annotations

from starlette.routing import Route

from bot.core.runtime import Runtime


def routes(rt: Runtime) -> list[Route]:
    return []
