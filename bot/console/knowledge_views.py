"""Knowledge base pages (admins): office.yaml, a service's fee and file, a situation's or a
free-form entry's file in a form, the chat's answer previewed in both languages, saved only
when the whole knowledge base (situations and entries too) stays valid."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from bot.console import knowledge_edit as ke
from bot.console.pages import Page, html, staff_page
from bot.console.previews import item_previews
from bot.conversation import understander_of
from bot.conversation.library import Library
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.qa.answers import render_answer, render_topic
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase
from bot.qa.matching import Match

PREVIEW_TOPICS = ("fee", "overview")
OFFICE_TOPICS = ("overview", "hours")


def routes(rt: Runtime) -> list[Route]:
    admin = staff_page(rt, "admin")

    def previews(kb: KnowledgeBase, key: str,
                 library: Library | None = None) -> list[tuple[str, str, object]]:
        folder, _sep, item_id = key.partition("/")
        if item_id:
            return item_previews(kb, library or understander_of(rt).library, folder, item_id)
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
        """The key of the URL ("office", a service id, "entries/<id>", "situations/<id>") and
        its file."""
        if "service_id" in p.params:
            key = p.params["service_id"]
            path = ke.knowledge_file(rt, key)
        else:
            folder = "entries" if "entry_id" in p.params else "situations"
            item_id = p.params.get("entry_id") or p.params.get("situation_id", "")
            key, path = f"{folder}/{item_id}", ke.item_file(rt, folder, item_id)
        return (key, path) if path is not None else None

    def _name(key: str, locale: str) -> str:
        if key == OFFICE_ID:
            return rt.knowledge.office.name
        folder, _sep, item_id = key.partition("/")
        if item_id:
            library = understander_of(rt).library
            if folder == "entries" and item_id in library.entries:
                return library.entries[item_id].question.get(locale)
            if folder == "situations" and item_id in library.situations:
                return library.situations[item_id].name.get(locale)
            return key
        return rt.knowledge.services[key].name(locale)

    def _form(p: Page, key: str, path: Path, text: str, **extra: object) -> Response:
        relative = str(path.relative_to(Path(rt.knowledge.directory)))
        with rt.db.session() as session:
            edits = ke.history(session, relative)
        return p.render(
            "knowledge_edit.html", base=f"/console/knowledge/{key}",
            name=_name(key, p.tr.locale), file_path=relative, text=text,
            fee=ke.fee_amount_of(text) if "/" not in key else None, edits=edits, tz=rt.tz,
            **extra,
        )

    @admin
    def listing(p: Page) -> Response:
        services = [(sid, s.name(p.tr.locale), s.fee.amount) for sid, s in
                    rt.knowledge.services.items()]
        return p.render("knowledge.html", services=services, office=rt.knowledge.office.name,
                        money=lambda amount: p.tr.money(amount),
                        situations=[(i, _name(f"situations/{i}", p.tr.locale))
                                    for i in ke.item_ids(rt, "situations")],
                        entries=[(i, _name(f"entries/{i}", p.tr.locale))
                                 for i in ke.item_ids(rt, "entries")])

    @admin
    def show(p: Page) -> Response:
        found = _file(p)
        if found is None:
            return p.forbidden()
        key, path = found
        return _form(p, key, path, path.read_text(encoding="utf-8"),
                     previews=previews(rt.knowledge, key),
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
        key, path = found
        checked = ke.check(rt, path, _candidate(p, path))
        if checked.knowledge is None:
            return _form(p, key, path, checked.text, problems=checked.problems,
                         http_status=422)
        return _form(p, key, path, checked.text, ready=True,
                     previews=previews(checked.knowledge, key, checked.library))

    @admin
    def save(p: Page) -> Response:
        found = _file(p)
        if found is None:
            return p.forbidden()
        key, path = found
        with rt.db.session() as session:
            checked = ke.save(session, rt, path, _candidate(p, path),
                              actor_id=p.principal.telegram_id)
        if checked.knowledge is None:
            return _form(p, key, path, checked.text, problems=checked.problems,
                         http_status=422)
        ke.publish(rt, actor_id=p.principal.telegram_id)
        return p.redirect(f"/console/knowledge/{key}?saved=1")

    # The situations' and entries' routes first: "/console/knowledge/entries/preview" is no
    # service's.
    items = [
        Route(f"/console/knowledge/{folder}/{{{param}}}{suffix}", view, methods=[method])
        for folder, param in (("entries", "entry_id"), ("situations", "situation_id"))
        for suffix, view, method in (("", show, "GET"), ("/preview", preview, "POST"),
                                     ("/save", save, "POST"))
    ]
    return [
        Route("/console/knowledge", listing, methods=["GET"]),
        *items,
        Route("/console/knowledge/{service_id}", show, methods=["GET"]),
        Route("/console/knowledge/{service_id}/preview", preview, methods=["POST"]),
        Route("/console/knowledge/{service_id}/save", save, methods=["POST"]),
    ]
