"""The console's routes, mounted on whichever server the bot runs with (see routes())."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.console import auth
from bot.console.pages import Page, locale_of, staff_page
from bot.core.i18n import Translator
from bot.core.runtime import Runtime

STATIC = Path(__file__).parent / "static"


def routes(rt: Runtime) -> list[BaseRoute]:
    """Every console and public route, with full paths: /console/... and /ikm."""
    from bot.console import (
        applications_views,
        complaints_views,
        ikm_views,
        knowledge_views,
        queue_views,
        unanswered_views,
    )

    page = staff_page(rt)

    async def login_form(request: Request) -> Response:
        locale, chosen = locale_of(request, rt.settings.default_locale)
        # Opening the link changes nothing: chat apps fetch links for their previews, which
        # must not use up the one-time link. The button below signs in.
        return Page(rt, request, Translator(locale), set_lang=chosen).render("login.html")

    async def login(request: Request) -> Response:
        token = request.path_params["token"]

        def redeem() -> str | None:
            with rt.db.session() as session:
                return auth.redeem_link(session, rt, token)

        secret = await run_in_threadpool(redeem)
        locale, _chosen = locale_of(request, rt.settings.default_locale)
        page = Page(rt, request, Translator(locale))
        if secret is None:
            return page.render("login_failed.html", http_status=400)
        response = page.redirect("/console/")
        response.set_cookie(
            auth.COOKIE,
            secret,
            max_age=int(auth.SESSION_TTL.total_seconds()),
            path="/console",
            secure=auth.base_url(rt).startswith("https://"),
            httponly=True,
            samesite="lax",
        )
        return response

    @page
    def home(p: Page) -> Response:
        return p.render("home.html")

    @page
    def logout(p: Page) -> Response:
        everywhere = p.form.get("everywhere") == "1"
        with rt.db.session() as session:
            auth.sign_out(session, p.principal, everywhere=everywhere)
        response = p.redirect("/console/signed-out")
        response.delete_cookie(auth.COOKIE, path="/console")
        return response

    async def signed_out(request: Request) -> Response:
        locale, chosen = locale_of(request, rt.settings.default_locale)
        return Page(rt, request, Translator(locale), set_lang=chosen).render("signed_out.html")

    table: list[Any] = [
        Route("/console/login/{token}", login_form, methods=["GET"]),
        Route("/console/login/{token}", login, methods=["POST"]),
        Route("/console/signed-out", signed_out, methods=["GET"]),
        Route("/console/", home, methods=["GET"]),
        Route("/console", home, methods=["GET"]),
        Route("/console/logout", logout, methods=["POST"]),
        *applications_views.routes(rt),
        *complaints_views.routes(rt),
        *ikm_views.routes(rt),
        *knowledge_views.routes(rt),
        *queue_views.routes(rt),
        *unanswered_views.routes(rt),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
    return table


# Every staff route and the lowest role that may use it: the route-walk test goes through all
# of them as each role and as nobody.
def protected_routes(rt: Runtime) -> list[tuple[str, str]]:
    """(method, path) of every route that needs a session."""
    out = []
    for route in routes(rt):
        if isinstance(route, Route) and route.path.startswith("/console") and not any(
            route.path.startswith(p) for p in ("/console/login", "/console/signed-out")
        ):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    out.append((method, route.path))
    return out
