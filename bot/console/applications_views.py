"""Applications in the console: search, filter, one application, status changes, CSV upload.

Every change goes through bot.applications (change_status, bulk_update), so the rules, the
history, the audit trail and the followers' notifications are the chat's own.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.responses import Response
from starlette.routing import Route

from bot.applications.bulk import CsvProblem, bulk_update, read_status_csv
from bot.applications.errors import ApplicationError, NotFound
from bot.applications.lookup import follower_count
from bot.applications.models import Application
from bot.applications.service import change_status, find_applications, get_application, history
from bot.applications.statuses import NOTE_REQUIRED, STATUS_LABELS, STATUSES, ServiceSteps
from bot.applications.tracking import normalize_tracking_number
from bot.console.auth import Principal
from bot.console.pages import Page, html, int_param, staff_page
from bot.core.i18n import N_
from bot.core.runtime import Runtime
from bot.surveys.questionnaire import service_unit

PAGE_SIZE = 50
SOURCE = "console"


def services_in_scope(rt: Runtime, principal: Principal) -> set[str] | None:
    """The services whose applications this person handles; None: all of them.

    Staff with a unit handle the services of that unit (the reporting unit of the satisfaction
    survey: survey.yaml's units, else the service's category); admins and staff without a unit
    handle all, as in the chat, where any officer may move any application.
    """
    if principal.is_admin or principal.unit is None:
        return None
    return {sid for sid in rt.knowledge.services if service_unit(rt, sid) == principal.unit}


def _in_scope(scope: set[str] | None, application: Application) -> bool:
    return scope is None or application.service_id in scope


def _service_options(rt: Runtime, scope: set[str] | None, locale: str) -> list[tuple[str, str]]:
    return sorted(
        (
            (sid, service.name(locale))
            for sid, service in rt.knowledge.services.items()
            if scope is None or sid in scope
        ),
        key=lambda pair: pair[1],
    )


def _labels(rt: Runtime, application: Application, tr: object) -> str:
    steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
    return steps.label(application.status, tr)  # type: ignore[arg-type]


@dataclass
class PreviewRow:
    line: int
    number: str
    before: str
    after: str
    note: str
    problem: str | None


def routes(rt: Runtime) -> list[Route]:
    page = staff_page(rt)

    @page
    def listing(p: Page) -> Response:
        scope = services_in_scope(rt, p.principal)
        q = (p.query.get("q") or "").strip()[:100]
        service = p.query.get("service") or ""
        status = p.query.get("status") or ""
        offset = max(int_param(p.query.get("page")), 0) * PAGE_SIZE
        with rt.db.session() as session:
            if q:
                # The chat's own search (number, else part of the name), audited as there.
                found = find_applications(
                    session, q, limit=PAGE_SIZE, actor_id=p.principal.telegram_id
                )
                rows = [
                    a for a in found
                    if _in_scope(scope, a)
                    and (not service or a.service_id == service)
                    and (not status or a.status == status)
                ]
                total = len(rows)
            else:
                query = select(Application)
                counting = select(func.count()).select_from(Application)
                conditions = []
                if scope is not None:
                    conditions.append(col(Application.service_id).in_(sorted(scope)))
                if service:
                    conditions.append(Application.service_id == service)
                if status in STATUSES:
                    conditions.append(Application.status == status)
                for condition in conditions:
                    query = query.where(condition)
                    counting = counting.where(condition)
                total = session.exec(counting).one()
                rows = list(
                    session.exec(
                        query.order_by(
                            col(Application.received_at).desc(),
                            col(Application.id).desc(),
                        )
                        .offset(offset)
                        .limit(PAGE_SIZE)
                    ).all()
                )
        return p.render(
            "applications.html",
            rows=[(a, _labels(rt, a, p.tr), rt.knowledge.services.get(a.service_id)) for a in rows],
            total=total,
            q=q,
            service=service,
            status=status,
            page=offset // PAGE_SIZE,
            page_size=PAGE_SIZE,
            services=_service_options(rt, scope, p.tr.locale),
            statuses=[(s, p.tr.gettext(STATUS_LABELS[s])) for s in STATUSES],
            tz=rt.tz,
        )

    def _show(
        p: Page, session: Session, application: Application, **extra: object
    ) -> Response:
        steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
        service = rt.knowledge.services.get(application.service_id)
        return p.render(
            "application.html",
            a=application,
            service_name=service.name(p.tr.locale) if service else application.service_id,
            status_label=steps.label(application.status, p.tr),
            history=[(e, steps.label(e.status, p.tr)) for e in history(session, application)],
            next_steps=[(s, steps.label(s, p.tr)) for s in steps.next_steps(application.status)],
            note_required=sorted(NOTE_REQUIRED),
            followers=follower_count(session, application.id),
            overdue=application.is_overdue(),
            tz=rt.tz,
            **extra,
        )

    @page
    def show(p: Page) -> Response:
        scope = services_in_scope(rt, p.principal)
        with rt.db.session() as session:
            try:
                application = get_application(session, p.params["number"])
            except ApplicationError:
                return p.forbidden()
            if not _in_scope(scope, application):
                return p.forbidden()
            return _show(p, session, application, saved=p.query.get("saved") == "1")

    @page
    def change(p: Page) -> Response:
        scope = services_in_scope(rt, p.principal)
        number = p.params["number"]
        with rt.db.session() as session:
            try:
                application = get_application(session, number)
            except ApplicationError:
                return p.forbidden()
            if not _in_scope(scope, application):
                return p.forbidden()
            try:
                change_status(
                    session,
                    rt,
                    tracking_number=number,
                    status=p.form.get("status", ""),
                    note=p.form.get("note") or None,
                    actor_id=p.principal.telegram_id,
                    source=SOURCE,
                )
            except ApplicationError as err:
                session.rollback()
                return _show(p, session, application, error=html(err.message(p.tr)),
                             note=p.form.get("note", ""))
        return p.redirect(f"/console/applications/{application.tracking_number}?saved=1")

    @page
    def upload_form(p: Page) -> Response:
        return p.render("upload.html")

    def _rows(p: Page, data: bytes) -> list[tuple[int, dict[str, str]]] | Response:
        if not data:
            return p.render("upload.html", error=p.tr.gettext(N_("Choose a CSV file first.")))
        try:
            return read_status_csv(data)
        except CsvProblem as problem:
            return p.render("upload.html", error=p.tr.gettext(problem.args[0]))

    @page
    def preview(p: Page) -> Response:
        """What the file would change, worked out by the real rules and rolled back."""
        data = p.files.get("file", b"")
        rows = _rows(p, data)
        if isinstance(rows, Response):
            return rows
        scope = services_in_scope(rt, p.principal)
        out: list[PreviewRow] = []
        with Session(rt.db.engine) as session:
            try:
                for line, row in rows:
                    number = row.get("tracking_number", "")
                    target = row.get("status", "").lower().replace(" ", "_")
                    shown = STATUS_LABELS.get(target)
                    after = p.tr.gettext(shown) if shown else target
                    try:
                        with session.begin_nested():
                            application = get_application(session, number)
                            before = _labels(rt, application, p.tr)
                            if not _in_scope(scope, application):
                                raise NotFound(N_(
                                    "Application {number} belongs to another unit."),
                                    number=application.display_number)
                            change_status(
                                session, rt, tracking_number=number, status=target,
                                note=row.get("note") or None,
                                actor_id=p.principal.telegram_id, source="csv",
                            )
                        out.append(PreviewRow(line, number, before, after, row.get("note", ""),
                                              None))
                    except ApplicationError as err:
                        out.append(PreviewRow(line, number, "", after, row.get("note", ""),
                                              html(err.message(p.tr))))
            finally:
                session.rollback()
        return p.render(
            "upload_preview.html",
            rows=out,
            good=sum(1 for r in out if r.problem is None),
            data=base64.b64encode(data).decode(),
        )

    @page
    def apply(p: Page) -> Response:
        try:
            data = base64.b64decode(p.form.get("data", ""), validate=True)
        except ValueError:
            data = b""
        rows = _rows(p, data)
        if isinstance(rows, Response):
            return rows
        scope = services_in_scope(rt, p.principal)
        if scope is not None:
            data = _only_in_scope(rt, rows, scope)
        report = bulk_update(rt, data, actor_id=p.principal.telegram_id)
        problems = [
            (line, html(err.message(p.tr)) if err is not None else p.tr.gettext(
                N_("This row could not be saved; please try it again.")))
            for line, err in report.refused
        ]
        return p.render("upload_done.html", applied=report.applied, problems=problems,
                        scoped=scope is not None)

    def _only_in_scope(rt: Runtime, rows: list, scope: set[str]) -> bytes:
        """The rows of the file whose applications are in the person's unit, as a CSV."""
        with rt.db.session() as session:
            keep = []
            for _line, row in rows:
                number = normalize_tracking_number(row.get("tracking_number", ""))
                if number is None:
                    continue
                service_id = session.exec(
                    select(Application.service_id).where(
                        Application.tracking_number == number)
                ).first()
                if service_id in scope:
                    keep.append(row)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["tracking_number", "status", "note"])
        for row in keep:
            writer.writerow([row.get("tracking_number", ""), row.get("status", ""),
                             row.get("note", "")])
        return buffer.getvalue().encode()

    return [
        Route("/console/applications", listing, methods=["GET"]),
        Route("/console/applications/upload", upload_form, methods=["GET"]),
        Route("/console/applications/upload", preview, methods=["POST"]),
        Route("/console/applications/upload/apply", apply, methods=["POST"]),
        Route("/console/applications/{number}", show, methods=["GET"]),
        Route("/console/applications/{number}/status", change, methods=["POST"]),
    ]
