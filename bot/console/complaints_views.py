"""Complaints in the console: the queue with its time limits, one ticket, take, reply, resolve,
and the "show" button that lets the ticket's officer read its NIKs and phone numbers whole.

Who sees which ticket, what officers see of the complainant, who may see the numbers and every
change are the chat's own (bot.complaints: can_handle, render_staff_card, may_reveal, take,
reply, resolve).
"""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response
from starlette.routing import Route

from bot.complaints.access import ComplaintError, NotAllowed, can_handle
from bot.complaints.deadlines import overdue_stages
from bot.complaints.filing import get_complaint
from bot.complaints.handling import reply, resolve, take
from bot.complaints.lists import ListFilter, list_for_staff
from bot.complaints.masking import has_masked_text, may_reveal, record_reveal, revealed_card
from bot.complaints.models import Complaint
from bot.complaints.render import complainant_label, render_staff_card
from bot.complaints.vocabulary import (
    OPEN_STATUSES,
    PRIORITY_LABELS,
    RECEIVED,
    STAGE_LABELS,
    STAGE_RESOLVE,
    STAGE_RESPONSE,
    STAGE_VERIFY,
    STATUS_LABELS,
    STATUSES,
    TERMINAL_STATUSES,
    categories,
    category_of,
)
from bot.console.pages import Page, html, int_param, staff_page
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime

QUEUE_SIZE = 50  # tickets on the queue page, the overdue ones first
# complaints.id is an INTEGER: a forged id past it is no ticket, not a database error.
MAX_COMPLAINT_ID = 2**31 - 1


def error_text(exc: ComplaintError, tr: Translator) -> str:
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
           "status": _(STATUS_LABELS[status]) if status in STATUS_LABELS else ""}
    )


def next_deadline(complaint: Complaint) -> tuple[str, datetime] | None:
    """The stage the ticket owes next and when it is due."""
    if complaint.status not in OPEN_STATUSES:
        return None
    if complaint.status == RECEIVED and complaint.verified_at is None:
        return STAGE_VERIFY, complaint.verify_due
    if complaint.first_response_at is None:
        return STAGE_RESPONSE, complaint.response_due
    return STAGE_RESOLVE, complaint.resolve_due


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
        title = (titles or {}).get(c.category) or category_of(rt, c.category).title(tr)
        return {
            "c": c,
            "status": tr.gettext(STATUS_LABELS[c.status]),
            "category": title,
            "who": html(complainant_label(c, tr)),
            "stage": tr.gettext(STAGE_LABELS[deadline[0]]) if deadline else "",
            "left": left,
            "late": late or bool(overdue_stages(c, now)),
            "priority": tr.gettext(PRIORITY_LABELS[c.priority]),
        }

    @page
    def queue(p: Page) -> Response:
        viewer = p.principal.viewer
        status = p.query.get("status") or "open"
        if status not in ("open", "all", *STATUSES):
            status = "open"
        mine = p.query.get("mine") == "1"
        now = utcnow()
        with rt.db.session() as session:
            # Overdue ones first, then the rest by priority and time limit: the chat's lists.
            late = list_for_staff(
                session, viewer, ListFilter(status=status, overdue=True, mine=mine), now=now,
                limit=QUEUE_SIZE,
            )
            seen = {c.id for c in late}
            rest = [
                c for c in list_for_staff(
                    session, viewer, ListFilter(status=status, mine=mine), now=now,
                    limit=QUEUE_SIZE,
                )
                if c.id not in seen
            ][: QUEUE_SIZE - len(late)]
            titles = {c.key: c.title(p.tr) for c in categories(rt)}
            rows = [row(c, p.tr, now, titles) for c in late + rest]
        return p.render(
            "complaints.html", rows=rows, status=status, mine=mine,
            statuses=[(s, p.tr.gettext(STATUS_LABELS[s])) for s in STATUSES],
        )

    def _load(session: object, p: Page, *, lock: bool = False) -> Complaint | None:
        complaint_id = int_param(p.params["complaint_id"], -1)
        if not 1 <= complaint_id <= MAX_COMPLAINT_ID:
            return None
        try:
            complaint = get_complaint(session, complaint_id, for_update=lock)  # type: ignore[arg-type]
        except ComplaintError:
            return None
        return complaint if can_handle(p.principal.viewer, complaint) else None

    def _show(
        p: Page, session: object, complaint: Complaint, *, card: str | None = None,
        **extra: object,
    ) -> Response:
        """The ticket's page; ``card``: the ticket already rendered (whole, after "show")."""
        now = utcnow()
        viewer = p.principal.viewer
        if card is None:
            card = render_staff_card(session, rt, complaint, p.tr, now=now,  # type: ignore[arg-type]
                                     with_thread=True)
        return p.render(
            "complaint.html",
            c=complaint,
            r=row(complaint, p.tr, now),
            card=html(card),
            can_reveal=not extra.get("revealed")
            and may_reveal(viewer, complaint)
            and has_masked_text(session, complaint),  # type: ignore[arg-type]
            can_take=complaint.status in OPEN_STATUSES
            and complaint.assignee_id != p.principal.telegram_id
            and (complaint.assignee_id is None or p.principal.viewer.sees_all),
            can_reply=complaint.status not in TERMINAL_STATUSES,
            can_resolve=complaint.status in OPEN_STATUSES,
            **extra,
        )

    @page
    def show(p: Page) -> Response:
        with rt.db.session() as session:
            complaint = _load(session, p)
            if complaint is None:
                return p.forbidden()
            return _show(p, session, complaint, done=p.query.get("done", ""))

    @page
    def reveal(p: Page) -> Response:
        """The ticket whole, for this response only (the console's pages are never cached),
        and audited in the transaction that makes it: no full text without its audit line."""
        with rt.db.session() as session:
            complaint = _load(session, p)
            if complaint is None:
                return p.forbidden()
            viewer = p.principal.viewer
            try:
                card = revealed_card(session, rt, complaint, viewer, p.tr)
            except NotAllowed:
                return p.render("error.html", http_status=403, back=f"/console/complaints/"
                                f"{complaint.id}", message=p.tr.gettext(
                    "Only the officer handling this ticket, or a supervisor of its unit, can "
                    "see the full numbers."))
            response = _show(p, session, complaint, card=card, revealed=True)
            record_reveal(session, complaint, viewer, channel="console")
        return response

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
                        take(session, rt, complaint, actor=viewer)
                    elif name == "reply":
                        reply(session, rt, complaint, actor=viewer, body=p.form.get("body", ""))
                    else:
                        resolve(session, rt, complaint, actor=viewer,
                                   answer=p.form.get("body", ""))
                except ComplaintError as exc:
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
        Route("/console/complaints/{complaint_id}/reveal", reveal, methods=["POST"]),
        Route("/console/complaints/{complaint_id}/take", action("take"), methods=["POST"]),
        Route("/console/complaints/{complaint_id}/reply", action("reply"), methods=["POST"]),
        Route("/console/complaints/{complaint_id}/resolve", action("resolve"), methods=["POST"]),
    ]
