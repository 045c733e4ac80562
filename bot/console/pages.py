"""The console's request plumbing: templates, the signed-in principal, CSRF, role checks.

A view is a plain function of a ``Page`` run in a worker thread (the database calls block);
the decorators below do the asynchronous parts first: reading the cookie and the form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.console import auth
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import Translator
from bot.core.offload import off_the_loop
from bot.core.runtime import Runtime
from bot.people.roles import has_role

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "servicebot_lang"
MAX_FORM_BYTES = 4 * 1024 * 1024  # a 10,000-row status CSV is well under this

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Page:
    """One request as a view sees it."""

    rt: Runtime
    request: Request
    tr: Translator
    principal: auth.Principal | None = None
    session_token: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    set_lang: str | None = None

    @property
    def query(self) -> Any:
        return self.request.query_params

    @property
    def params(self) -> Any:
        return self.request.path_params

    def render(self, template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
        tr = self.tr
        html = ENV.get_template(template).render(
            _=tr.gettext,
            ngettext=tr.ngettext,
            lang=tr.locale,
            me=self.principal,
            csrf=auth.csrf_token(self.session_token) if self.session_token else "",
            path=self.request.url.path,
            **values,
        )
        response = HTMLResponse(html, status_code=http_status)
        self._finish(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self._finish(response)
        return response

    def _finish(self, response: Response) -> None:
        response.headers["Cache-Control"] = "no-store" if self.principal else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        # No script at all: whatever slipped past the escaping could not run. Inline style
        # attributes only draw the index bars.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        if self.set_lang:
            response.set_cookie(LANG_COOKIE, self.set_lang, max_age=365 * 86400, samesite="lax")

    def forbidden(self) -> HTMLResponse:
        """The same page whether the thing exists or belongs to someone else: nothing leaks."""
        return self.render("error.html", http_status=403, message=self.tr.gettext(
            "You may not open this page."))


def html(text: str) -> Markup:
    """Text the domain already escaped for Telegram's HTML (complaint cards, error reasons)."""
    return Markup(text)


def locale_of(request: Request, fallback: str) -> tuple[str, str | None]:
    """The page language: ?lang= (remembered in a cookie), the cookie, or the fallback."""
    asked = request.query_params.get("lang")
    if asked in SUPPORTED_LOCALES:
        return asked, asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in SUPPORTED_LOCALES:
        return kept, None
    return fallback, None


async def _read_form(request: Request) -> tuple[dict[str, str], dict[str, bytes]] | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    form = await request.form(max_part_size=MAX_FORM_BYTES)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = await value.read(MAX_FORM_BYTES + 1)
        else:
            fields[key] = value
    await form.close()
    return fields, files


View = Callable[[Page], Response]


def staff_page(
    rt: Runtime, required: str = "officer", *, offload: bool = False
) -> Callable[[View], Any]:
    """A console page: a live session of someone with at least ``required``; a form must
    carry the session's CSRF token. ``offload``: a report (a chart, a PDF, a workbook) that
    only reads, run in the report threads (bot/core/offload.py) so a few at once never take
    every worker thread of the pages."""

    def decorate(view: View) -> Any:
        @wraps(view)
        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(auth.COOKIE)

            def who() -> auth.Principal | None:
                with rt.db.session() as session:
                    return auth.principal_for(session, rt, token)

            principal = await run_in_threadpool(who)
            locale, chosen = locale_of(
                request, principal.locale if principal else rt.settings.default_locale
            )
            page = Page(rt, request, Translator(locale), set_lang=chosen)
            if principal is None:
                return page.render("signin_needed.html", http_status=401)
            page.principal, page.session_token = principal, token
            if request.method == "POST":
                read = await _read_form(request)
                if read is None:
                    return page.render("error.html", http_status=413, message=page.tr.gettext(
                        "The file is too large."))
                page.form, page.files = read
                if not auth.csrf_ok(token or "", page.form.get("csrf")):
                    return page.render("error.html", http_status=403, message=page.tr.gettext(
                        "This form has expired. Go back, reload the page and try again."))
            if not has_role(principal.role, required):
                return page.forbidden()
            if offload:
                return await off_the_loop(view, page)
            return await run_in_threadpool(view, page)

        return endpoint

    return decorate


def public_page(rt: Runtime) -> Callable[[View], Any]:
    """A page for everyone (the published satisfaction index): no session is even read."""

    def decorate(view: View) -> Any:
        @wraps(view)
        async def endpoint(request: Request) -> Response:
            locale, chosen = locale_of(request, rt.settings.default_locale)
            page = Page(rt, request, Translator(locale), set_lang=chosen)
            return await run_in_threadpool(view, page)

        return endpoint

    return decorate


def int_param(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
