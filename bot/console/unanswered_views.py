"""Unanswered questions in the console: the most asked ones (the chat's /belumterjawab,
bot.feedback.log) per unit and period, and turning one into an answer: a new free-form entry,
or its words added to a service's aliases, through the console's knowledge editing
(bot.console.knowledge_edit: validated, previewed in both languages as the chat would answer
the question, history kept, written atomically, every instance reloaded). The question is then
marked handled and leaves the lists until it is asked, and again not answered, after that.

Officers see their unit's questions (those nearest to its services) and the office-wide ones;
supervisors the same and they turn them into answers (a unit's supervisor adds words only to
that unit's services); admins everything.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from bot.console import knowledge_edit as ke
from bot.console.applications_views import services_in_scope
from bot.console.ikm_views import units
from bot.console.pages import Page, int_param, staff_page
from bot.console.previews import LOCALES, answer_to, item_previews
from bot.core.exports import XLSX_MIME
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.feedback import log as fl
from bot.feedback.models import UnansweredQuestion
from bot.surveys.questionnaire import service_unit

PERIODS = (7, 30, 90, 365)  # days, as the chat's /belumterjawab N
DEFAULT_DAYS = 30
TOP = 30


def _slug(text: str) -> str:
    """An entry id from the question's first words: "di-mana-mushola"."""
    words = [w for w in fl.normalise(text).split() if w.isalnum() and w.isascii()][:5]
    return "-".join(words)[: ke.MAX_ENTRY_ID].strip("-") or "entry"


def _keywords(text: str) -> str:
    return " ".join(w for w in fl.normalise(text).split() if not w.startswith("["))


def routes(rt: Runtime) -> list[Route]:
    officer = staff_page(rt)
    supervisor = staff_page(rt, "supervisor")
    exporter = staff_page(rt, offload=True)  # a year of questions: in a report thread

    def unit_of(service_id: str) -> str | None:
        return service_unit(rt, service_id)

    def scope_of(p: Page, asked_unit: str | None = None) -> fl.Scope:
        unit = asked_unit if p.principal.is_admin else p.principal.unit
        return fl.Scope.of_unit(unit, rt.knowledge.services, unit_of)

    def name_of(service_id: str | None, tr: Translator) -> str:
        if service_id is None:
            return tr.gettext("office-wide")
        service = rt.knowledge.services.get(service_id)
        return service.name(tr.locale) if service is not None else service_id

    def editable_services(p: Page) -> list[tuple[str, str]]:
        scope = services_in_scope(rt, p.principal)
        return sorted(
            ((sid, s.name(p.tr.locale)) for sid, s in rt.knowledge.services.items()
             if scope is None or sid in scope),
            key=lambda pair: pair[1].lower(),
        )

    def period_and_unit(p: Page) -> tuple[int, str | None]:
        """The page's period in days (one of PERIODS) and the unit asked for (an admin's
        filter; anyone else's scope is their own unit whatever the URL says)."""
        days = int_param(p.query.get("days"), DEFAULT_DAYS)
        unit = p.query.get("unit") or None
        return (days if days in PERIODS else DEFAULT_DAYS,
                unit if unit is not None and unit in units(rt) else None)

    @officer
    def listing(p: Page) -> Response:
        days, unit = period_and_unit(p)
        with rt.db.session() as session:
            questions = fl.top_questions(
                session, scope=scope_of(p, unit), since=rt.now() - timedelta(days=days),
                limit=TOP,
            )
        handled = int_param(p.query.get("handled"), 0)
        return p.render(
            "unanswered.html", questions=questions, days=days, periods=PERIODS,
            unit=unit, units=units(rt) if p.principal.is_admin else [],
            name_of=lambda sid: name_of(sid, p.tr), tz=rt.tz, handled=handled,
            everything=scope_of(p, unit).services is None,
        )

    def export(kind: str) -> Any:
        def view(p: Page) -> Response:
            """The period's questions (every one, not only the top) as XLSX or CSV."""
            days, unit = period_and_unit(p)
            office = Translator(rt.settings.default_locale)
            with rt.db.session() as session:
                _count, body = fl.gaps_export(
                    session, scope=scope_of(p, unit), since=rt.now() - timedelta(days=days),
                    xlsx=kind == "xlsx", unit_of=unit_of,
                    name_of=lambda sid: name_of(sid, office), tz=rt.tz,
                )
            stem = f"unanswered-{days}d" + (f"-{unit}" if unit and p.principal.is_admin else "")
            return Response(body, media_type=XLSX_MIME if kind == "xlsx" else
                            "text/csv; charset=utf-8",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{stem}.{kind}"'})

        view.__name__ = f"unanswered_{kind}"
        return exporter(view)

    def _question(p: Page) -> UnansweredQuestion | None:
        """The question of the URL, if this person may see it (one answer otherwise)."""
        with rt.db.session() as session:
            question = fl.get_question(session, int_param(p.params["question_id"], -1))
        if question is None or not scope_of(p).covers(question):
            return None
        return question

    @supervisor
    def show(p: Page) -> Response:
        question = _question(p)
        if question is None:
            return p.forbidden()
        with rt.db.session() as session:
            answers = fl.officer_answers(session, [question.id]).get(question.id, [])
        services = editable_services(p)
        nearest = question.service_id if question.service_id in dict(services) else ""
        fields = {
            "entry_id": _slug(question.text),
            f"title_{question.locale}": question.text,
            f"keywords_{question.locale}": _keywords(question.text),
            f"answer_{question.locale}": answers[0] if answers else "",
        }
        return p.render(
            "unanswered_question.html", q=question, answers=answers, services=services,
            nearest=nearest, fields=fields, locales=LOCALES, tz=rt.tz,
            where=name_of(question.service_id, p.tr),
        )

    def _target(p: Page, target: str) -> tuple[Path, str] | None:
        """The file a target names ("entry:<id>" new, "service:<id>" in this person's
        scope) and its relative path; None when it may not be written."""
        kind, _sep, key = target.partition(":")
        if kind == "entry":
            path = ke.new_entry_path(rt, key)
        elif kind == "service" and key in dict(editable_services(p)):
            path = ke.service_file(rt, key)
        else:
            path = None
        if path is None:
            return None
        return path, str(path.relative_to(Path(rt.knowledge.directory)))

    def _candidate(p: Page, question: UnansweredQuestion) -> tuple[str, str, str | None]:
        """(target, YAML text, a note) from the form: the text edited by hand when there is
        one, else built from the entry's fields or the words for a service."""
        form = p.form
        if form.get("text"):
            return form.get("target", ""), form["text"].replace("\r\n", "\n"), None
        if form.get("kind") == "service":
            sid = form.get("service", "")
            locale = form.get("locale") if form.get("locale") in LOCALES else question.locale
            found = _target(p, f"service:{sid}")
            if found is None:
                return f"service:{sid}", "", None
            current = found[0].read_text(encoding="utf-8")
            added = ke.with_alias(current, locale, form.get("phrase") or question.text)
            if added is None:
                return f"service:{sid}", current, p.tr.gettext(
                    "Add the words to the service's aliases by hand below.")
            return f"service:{sid}", added, None
        entry_id = (form.get("entry_id") or "").strip().lower()
        text = ke.entry_text(
            entry_id,
            question={loc: form.get(f"title_{loc}", "") for loc in LOCALES},
            keywords={loc: form.get(f"keywords_{loc}", "") for loc in LOCALES},
            answer={loc: form.get(f"answer_{loc}", "") for loc in LOCALES},
        )
        return f"entry:{entry_id}", text, None

    def _edit(p: Page, question: UnansweredQuestion, target: str, text: str,
              checked: ke.Checked | None, **extra: Any) -> Response:
        found = _target(p, target)
        previews: list[tuple[str, str, object]] = []
        answered = None
        if checked is not None and checked.knowledge is not None:
            answered = []
            for locale in LOCALES:
                kind, html = answer_to(checked.knowledge, checked.library, question.text,
                                       Translator(locale), rt.tz)
                answered.append((locale, kind, html))
            kind, _sep, key = target.partition(":")
            if kind == "entry":
                previews = item_previews(checked.knowledge, checked.library, "entries", key)
        return p.render(
            "unanswered_edit.html", q=question, target=target, text=text,
            file_path=found[1] if found else "", answered=answered, previews=previews,
            problems=checked.problems if checked is not None else (), **extra,
        )

    def _refusal(p: Page, target: str) -> str:
        kind, _sep, key = target.partition(":")
        if kind == "entry":
            return p.tr.gettext(
                "The entry id {id} cannot be used: write lowercase letters, digits and "
                "hyphens, at most 40, and no id of an existing entry.").format(id=key)
        return p.tr.gettext("Choose one of the services.")

    def _problems(p: Page, target: str, checked: ke.Checked) -> tuple[str, ...]:
        """The file must stay the one the target names: an entry of that id, the service."""
        if checked.knowledge is None:
            return checked.problems
        kind, _sep, key = target.partition(":")
        if kind == "entry" and key not in checked.library.entries:
            return (p.tr.gettext("The file must keep id: {id}.").format(id=key),)
        if kind == "service" and key not in checked.knowledge.services:
            return (p.tr.gettext("The file must keep id: {id}.").format(id=key),)
        return ()

    @supervisor
    def preview(p: Page) -> Response:
        question = _question(p)
        if question is None:
            return p.forbidden()
        target, text, note = _candidate(p, question)
        found = _target(p, target)
        if found is None:
            return _edit(p, question, target, text, None, refusal=_refusal(p, target),
                         http_status=422)
        checked = ke.check(rt, found[0], text)
        problems = _problems(p, target, checked)
        if problems:
            checked = ke.Checked(text, None, problems)
            return _edit(p, question, target, text, checked, note=note, http_status=422)
        return _edit(p, question, target, text, checked, note=note, ready=True)

    @supervisor
    def save(p: Page) -> Response:
        question = _question(p)
        if question is None:
            return p.forbidden()
        target, text, _note = _candidate(p, question)
        found = _target(p, target)
        if found is None:
            return _edit(p, question, target, text, None, refusal=_refusal(p, target),
                         http_status=422)
        path, relative = found
        actor = p.principal.telegram_id
        checked = ke.check(rt, path, text)
        problems = _problems(p, target, checked)
        if problems:
            return _edit(p, question, target, text, ke.Checked(text, None, problems),
                         http_status=422)
        with rt.db.session() as session:
            checked = ke.save(session, rt, path, text, actor_id=actor)
            if checked.knowledge is None:
                session.rollback()
                return _edit(p, question, target, text, checked, http_status=422)
            fresh = fl.get_question(session, question.id)
            fl.mark_handled(session, fresh, actor_id=actor, handled_as=relative, now=rt.now())
        ke.publish(rt, actor_id=actor)
        return p.redirect(f"/console/unanswered?handled={question.id}")

    @supervisor
    def handled(p: Page) -> Response:
        """No answer is needed (a greeting, a question for another office): off the list."""
        question = _question(p)
        if question is None:
            return p.forbidden()
        with rt.db.session() as session:
            fresh = fl.get_question(session, question.id)
            fl.mark_handled(session, fresh, actor_id=p.principal.telegram_id, handled_as=None,
                            now=rt.now())
        return p.redirect(f"/console/unanswered?handled={question.id}")

    return [
        Route("/console/unanswered", listing, methods=["GET"]),
        Route("/console/unanswered.xlsx", export("xlsx"), methods=["GET"]),
        Route("/console/unanswered.csv", export("csv"), methods=["GET"]),
        Route("/console/unanswered/{question_id}", show, methods=["GET"]),
        Route("/console/unanswered/{question_id}/preview", preview, methods=["POST"]),
        Route("/console/unanswered/{question_id}/save", save, methods=["POST"]),
        Route("/console/unanswered/{question_id}/handled", handled, methods=["POST"]),
    ]
