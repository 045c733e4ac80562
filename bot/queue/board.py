"""The waiting-room board: a public page (no login) for a TV in the waiting room, showing who
is called to which counter and who is next. Numbers and counters only, nothing personal. The
page asks for the state every second and chimes on each new call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import Translator
from bot.queue.counter import order_key
from bot.queue.models import CALLED, SERVING, WAITING, QueueBooking
from bot.queue.rendering import ticket_number
from bot.queue.service import config_of, local_today

PAGE = Path(__file__).with_name("board.html")
BOARD_PATH = "/papan"  # "board" in Indonesian; /board works too
SHOWN_CALLS = 6
SHOWN_NEXT = 8


def labels(locale: str) -> dict[str, str]:
    _ = Translator(locale).gettext
    return {
        "title": _("Queue"), "number": _("Number"), "counter": _("Counter"),
        "called": _("Now calling"), "next": _("Next"), "waiting": _("waiting"),
        "none": _("Nobody has been called yet."), "sound": _("🔊 Turn on the sound"),
    }


def board_state(session: Any, rt: Any, locale: str) -> dict[str, Any]:
    """Today's calls, newest first, and the next numbers in calling order."""
    now = rt.now()
    config = config_of(rt)
    today = local_today(rt, now)
    called = session.exec(
        select(QueueBooking)
        .where(QueueBooking.day == today, QueueBooking.status.in_((CALLED, SERVING)))
        .order_by(QueueBooking.called_at.desc(), QueueBooking.id.desc())
        .limit(SHOWN_CALLS)
    ).all()
    waiting = session.exec(
        select(QueueBooking).where(QueueBooking.day == today, QueueBooking.status == WAITING)
    ).all()
    if config is not None:
        waiting = sorted(waiting, key=lambda b: order_key(config, b))
    return {
        "office": rt.knowledge.office.name,
        "time": now.astimezone(rt.tz).strftime("%H:%M"),
        "called": [
            {"number": ticket_number(b), "counter": b.counter or "-",
             # Identifies one call: a citizen called again after a return chimes again.
             "call": f"{b.id}:{int(b.returned)}"}
            for b in called
        ],
        "next": [ticket_number(b) for b in waiting[:SHOWN_NEXT]],
        "waiting": len(waiting),
        "labels": labels(locale),
    }


def board_routes(rt: Any) -> list[Route]:
    def page(request: Request) -> Response:
        return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    # A plain function: Starlette runs it in a worker thread, off the event loop.
    def state(request: Request) -> Response:
        locale = request.query_params.get("lang", rt.settings.default_locale)
        if locale not in SUPPORTED_LOCALES:
            locale = rt.settings.default_locale
        with rt.db.session() as session:
            body = board_state(session, rt, locale)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return [
        Route(BOARD_PATH, page, methods=["GET"]),
        Route("/board", page, methods=["GET"]),
        Route(f"{BOARD_PATH}/state", state, methods=["GET"]),
    ]

