"""Knowledge base pages (admins): a service's fee and file in a form, the chat's answer
previewed in both languages, saved only when the whole knowledge base stays valid."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from bot.console import knowledge_edit as ke
from bot.console.pages import Page, html, staff_page
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.qa.answers import render_answer, render_topic
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase
from bot.qa.matching import Match

PREVIEW_TOPICS = ("fee", "overview")
OFFICE_TOPICS = ("overview", "hours")


def routes(rt: Runtime) -> list[Route]:
    admin = staff_page(rt, "admin")

    def previews(kb: KnowledgeBase, key: str) -> list[tuple[str, str, object]]:
        if key == OFFICE_ID:
            return [
                (locale, topic, html(render_answer(
                    kb, Match(OFFICE_ID, topic, 100.0), Translator(locale), rt.tz).html))
                for topic in OFFICE_TOPICS
                for locale in ("id", "en")
            ]
        service = kb.services.get(key)
        if service is None:
            return []
        return [
            (locale, topic, html(render_topic(kb, service, topic, Translator(locale), rt.tz).html))
            for topic in PREVIEW_TOPICS
            for locale in ("id", "en")
        ]

    def _file(p: Page) -> tuple[str, Path] | None:
        key = p.params["service_id"]
        path = ke.knowledge_file(rt, key)
        return (key, path) if path is not None else None

    def _name(key: str, locale: str) -> str:
        if key == OFFICE_ID:
            return rt.knowledge.office.name
        return rt.knowledge.services[key].name(locale)

    def _form(p: Page, service_id: str, path: Path, text: str, **extra: object) -> Response:
        relative = str(path.relative_to(Path(rt.knowledge.directory)))
        with rt.db.session() as session:
            edits = ke.history(session, relative)
        return p.render(
            "knowledge_edit.html", service_id=service_id,
            name=_name(service_id, p.tr.locale), file_path=relative, text=text,
            fee=ke.fee_amount_of(text), edits=edits, tz=rt.tz, **extra,
        )

    @admin
    def listing(p: Page) -> Response:
        services = [(sid, s.name(p.tr.locale), s.fee.amount) for sid, s in
                    rt.knowledge.services.items()]
        return p.render("knowledge.html", services=services, office=rt.knowledge.office.name,
                        money=lambda amount: p.tr.money(amount))

    @admin
    def show(p: Page) -> Response:
        found = _file(p)
        if found is None:
            return p.forbidden()
        service_id, path = found
        return _form(p, service_id, path, path.read_text(encoding="utf-8"),
                     previews=previews(rt.knowledge, service_id),
                     saved=p.query.get("saved") == "1")

    def _candidate(p: Page, path: Path) -> str:
        text = p.form.get("text") or path.read_text(encoding="utf-8")
        text = text.replace("\r\n", "\n")
        fee = (p.form.get("fee") or "").strip()
        if fee and ke.fee_amount_of(text) is not None and fee != ke.fee_amount_of(text):
            text = ke.with_fee_amount(text, fee)
        return text

    @admin
    def preview(p: Page) -> Response:
        found = _file(p)
        if found is None:
            return p.forbidden()
        service_id, path = found
        checked = ke.check(rt, path, _candidate(p, path))
        if checked.knowledge is None:
            return _form(p, service_id, path, checked.text, problems=checked.problems,
                         http_status=422)
        return _form(p, service_id, path, checked.text, ready=True,
                     previews=previews(checked.knowledge, service_id))

    @admin
    def save(p: Page) -> Response:
        found = _file(p)
        if found is None:
            return p.forbidden()
        service_id, path = found
        with rt.db.session() as session:
            checked = ke.save(session, rt, path, _candidate(p, path),
                              actor_id=p.principal.telegram_id)
        if checked.knowledge is None:
            return _form(p, service_id, path, checked.text, problems=checked.problems,
                         http_status=422)
        ke.publish(rt, actor_id=p.principal.telegram_id)
        return p.redirect(f"/console/knowledge/{service_id}?saved=1")

    return [
        Route("/console/knowledge", listing, methods=["GET"]),
        Route("/console/knowledge/{service_id}", show, methods=["GET"]),
        Route("/console/knowledge/{service_id}/preview", preview, methods=["POST"]),
        Route("/console/knowledge/{service_id}/save", save, methods=["POST"]),
    ]
