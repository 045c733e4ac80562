"""Complaints in the console: the queue with its time limits, one ticket, take, reply, resolve.

Who sees which ticket, what officers see of the complainant and every change are the chat's
own (bot.complaints: can_handle, render_staff_card, take, reply, resolve).
"""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response
from starlette.routing import Route

from bot import complaints as cp
from bot.complaint_models import Complaint
from bot.console.pages import Page, html, int_param, staff_page
from bot.i18n import Translator
from bot.models import utcnow
from bot.runtime import Runtime

QUEUE_SIZE = 50  # tickets on the queue page, the overdue ones first


def error_text(exc: cp.ComplaintError, tr: Translator) -> str:
    """A refused action in words the officer can act on (the chat's wording)."""
    _ = tr.gettext
    messages = {
        "too_long": _("That is {length} characters; the limit is {maximum}. Please shorten it."),
        "empty": _("Please write some text."),
        "already_yours": _("You already handle this ticket."),
        "taken_by_other": _(
            "Another officer already handles this ticket; a supervisor can reassign it."
        ),
        "not_your_ticket": _("You cannot handle this ticket: it belongs to another unit."),
        "unknown_ticket": _("No such ticket."),
        "illegal_move": _("This cannot be done now: the ticket is {status}."),
    }
    text = messages.get(exc.code, _("That choice is no longer valid. Please start again."))
    status = exc.detail.get("status")
    return text.format(
        **{**exc.detail,
           "status": _(cp.STATUS_LABELS[status]) if status in cp.STATUS_LABELS else ""}
    )


def next_deadline(complaint: Complaint) -> tuple[str, datetime] | None:
    """The stage the ticket owes next and when it is due."""
    if complaint.status not in cp.OPEN_STATUSES:
        return None
    if complaint.status == cp.RECEIVED and complaint.verified_at is None:
        return cp.STAGE_VERIFY, complaint.verify_due
    if complaint.first_response_at is None:
        return cp.STAGE_RESPONSE, complaint.response_due
    return cp.STAGE_RESOLVE, complaint.resolve_due


def countdown(due: datetime, now: datetime, tr: Translator) -> tuple[str, bool]:
    """'2 days 3 hours left' or 'overdue by 5 hours', and whether it is overdue."""
    seconds = int((due - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, hours = seconds // 86400, seconds % 86400 // 3600
    minutes = seconds % 3600 // 60
    if days:
        amount = tr.ngettext("{n} day", "{n} days", days).format(n=days)
        if hours:
            amount += " " + tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    elif hours:
        amount = tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    else:
        amount = tr.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    if late:
        return tr.gettext("overdue by {time}").format(time=amount), True
    return tr.gettext("{time} left").format(time=amount), False


def routes(rt: Runtime) -> list[Route]:
    page = staff_page(rt)

    def row(
        c: Complaint, tr: Translator, now: datetime, titles: dict[str, str] | None = None
    ) -> dict[str, object]:
        deadline = next_deadline(c)
        left, late = countdown(deadline[1], now, tr) if deadline else ("", False)
        title = (titles or {}).get(c.category) or cp.category_of(rt, c.category).title(tr)
        return {
            "c": c,
            "status": tr.gettext(cp.STATUS_LABELS[c.status]),
            "category": title,
            "who": html(cp.complainant_label(c, tr)),
            "stage": tr.gettext(cp.STAGE_LABELS[deadline[0]]) if deadline else "",
            "left": left,
            "late": late or bool(cp.overdue_stages(c, now)),
            "priority": tr.gettext(cp.PRIORITY_LABELS[c.priority]),
        }

    @page
    def queue(p: Page) -> Response:
        viewer = p.principal.viewer
        status = p.query.get("status") or "open"
        if status not in ("open", "all", *cp.STATUSES):
            status = "open"
        mine = p.query.get("mine") == "1"
        now = utcnow()
        with rt.db.session() as session:
            # Overdue ones first, then the rest by priority and time limit: the chat's lists.
            late = cp.list_for_staff(
                session, viewer, cp.ListFilter(status=status, overdue=True, mine=mine), now=now,
                limit=QUEUE_SIZE,
            )
            seen = {c.id for c in late}
            rest = [
                c for c in cp.list_for_staff(
                    session, viewer, cp.ListFilter(status=status, mine=mine), now=now,
                    limit=QUEUE_SIZE,
                )
                if c.id not in seen
            ][: QUEUE_SIZE - len(late)]
            titles = {c.key: c.title(p.tr) for c in cp.categories(rt)}
            rows = [row(c, p.tr, now, titles) for c in late + rest]
        return p.render(
            "complaints.html", rows=rows, status=status, mine=mine,
            statuses=[(s, p.tr.gettext(cp.STATUS_LABELS[s])) for s in cp.STATUSES],
        )

    def _load(session: object, p: Page, *, lock: bool = False) -> Complaint | None:
        try:
            complaint = cp.get_complaint(
                session, int_param(p.params["complaint_id"], -1), for_update=lock  # type: ignore[arg-type]
            )
        except cp.ComplaintError:
            return None
        return complaint if cp.can_handle(p.principal.viewer, complaint) else None

    def _show(p: Page, session: object, complaint: Complaint, **extra: object) -> Response:
        now = utcnow()
        return p.render(
            "complaint.html",
            c=complaint,
            r=row(complaint, p.tr, now),
            card=html(cp.render_staff_card(session, rt, complaint, p.tr, now=now,  # type: ignore[arg-type]
                                           with_thread=True)),
            can_take=complaint.status in cp.OPEN_STATUSES
            and complaint.assignee_id != p.principal.telegram_id
            and (complaint.assignee_id is None or p.principal.viewer.sees_all),
            can_reply=complaint.status not in cp.TERMINAL_STATUSES,
            can_resolve=complaint.status in cp.OPEN_STATUSES,
            **extra,
        )

    @page
    def show(p: Page) -> Response:
        with rt.db.session() as session:
            complaint = _load(session, p)
            if complaint is None:
                return p.forbidden()
            return _show(p, session, complaint, done=p.query.get("done", ""))

    def action(name: str):  # noqa: ANN202 - a view
        @page
        def act(p: Page) -> Response:
            with rt.db.session() as session:
                complaint = _load(session, p, lock=True)
                if complaint is None:
                    return p.forbidden()
                viewer = p.principal.viewer
                try:
                    if name == "take":
                        cp.take(session, rt, complaint, actor=viewer)
                    elif name == "reply":
                        cp.reply(session, rt, complaint, actor=viewer, body=p.form.get("body", ""))
                    else:
                        cp.resolve(session, rt, complaint, actor=viewer,
                                   answer=p.form.get("body", ""))
                except cp.ComplaintError as exc:
                    session.rollback()
                    return _show(p, session, complaint, error=error_text(exc, p.tr),
                                 body=p.form.get("body", ""), http_status=409)
                session.add(complaint)
            return p.redirect(f"/console/complaints/{complaint.id}?done={name}")

        act.__name__ = f"complaint_{name}"
        return act

    return [
        Route("/console/complaints", queue, methods=["GET"]),
        Route("/console/complaints/{complaint_id}", show, methods=["GET"]),
        Route("/console/complaints/{complaint_id}/take", action("take"), methods=["POST"]),
        Route("/console/complaints/{complaint_id}/reply", action("reply"), methods=["POST"]),
        Route("/console/complaints/{complaint_id}/resolve", action("resolve"), methods=["POST"]),
    ]
