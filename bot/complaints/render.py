"""Rendering complaints as HTML (every citizen's text escaped) and their buttons (Bot API JSON,
with callback data read back by handlers/complaints/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session

from bot.complaints.deadlines import overdue_stages
from bot.complaints.models import (
    Complaint,
)
from bot.complaints.queries import evidence_of, thread_of
from bot.complaints.vocabulary import (
    ANONYMOUS,
    DUPLICATE,
    OPEN_STATUSES,
    PRIORITY_LABELS,
    PRIVACY_LABELS,
    REJECTED,
    RESOLVED,
    STAGE_LABELS,
    STATUS_LABELS,
    TERMINAL_STATUSES,
    category_of,
)
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.staff_names import staff_label, staff_labels
from bot.privacy.masking import mask_numbers
from bot.telegram_rules.callback import CallbackData

# --- rendering (HTML; every citizen's text escaped) -------------------------------------------


def service_name(rt: Runtime, service_id: str | None, locale: str) -> str | None:
    if not service_id:
        return None
    services = getattr(rt.knowledge, "services", None) or {}
    service = services.get(service_id)
    return service.name(locale) if service is not None else service_id


def complainant_label(complaint: Complaint, tr: Translator) -> str:
    """What officers see of the complainant: the name, or only "Anonymous"."""
    if complaint.privacy == ANONYMOUS or not complaint.complainant_name:
        return (
            tr.gettext("Anonymous") if complaint.privacy == ANONYMOUS else tr.gettext("(no name)")
        )
    # Cleaned again when shown: rows stored before names were cleaned on filing.
    return escape(clean_name(complaint.complainant_name)) or tr.gettext("(no name)")


def render_staff_card(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    tr: Translator,
    *,
    now: datetime | None = None,
    with_thread: bool = False,
    reveal: bool = False,
    with_description: bool = True,
) -> str:
    """The ticket as officers see it. Never the complainant's Telegram id; no name when
    anonymous; NIKs and phone numbers in the citizen's texts masked unless ``reveal`` (the
    handling officer's audited request, bot/complaints/masking.py)."""
    _ = tr.gettext
    now = now or utcnow()
    cat = category_of(rt, complaint.category)
    lines = [
        _("Ticket: <b>{ticket}</b> · {status}").format(
            ticket=complaint.ticket, status=_(STATUS_LABELS[complaint.status])
        ),
        _("Category: {category} · priority {priority}").format(
            category=escape(cat.title(tr)), priority=_(PRIORITY_LABELS[complaint.priority])
        ),
    ]
    service = service_name(rt, complaint.service_id, tr.locale)
    if service:
        lines.append(_("Service: {service}").format(service=escape(service)))
    lines.append(
        _("From: {complainant} ({privacy})").format(
            complainant=complainant_label(complaint, tr),
            privacy=_(PRIVACY_LABELS[complaint.privacy]),
        )
    )
    lines.append(_("Received: {date}").format(date=tr.datetime(complaint.received_at, rt.tz)))
    if complaint.occurred_on:
        lines.append(_("Happened on: {date}").format(date=format_day(complaint.occurred_on, tr)))
    if complaint.place:
        lines.append(_("Place: {place}").format(place=escape(complaint.place)))
    if complaint.latitude is not None:
        lines.append(
            _("Location: {lat}, {lon}").format(lat=complaint.latitude, lon=complaint.longitude)
        )
    if complaint.unit or complaint.assignee_id:
        lines.append(_("Handled by: {who}").format(who=handler_label(session, complaint, tr)))
    if complaint.status in OPEN_STATUSES:
        lines.append(
            _("Due: verify {verify} · first response {response} · resolve {resolve}").format(
                verify=tr.date(complaint.verify_due, rt.tz),
                response=tr.date(complaint.response_due, rt.tz),
                resolve=tr.date(complaint.resolve_due, rt.tz),
            )
        )
        stages = overdue_stages(complaint, now)
        if stages:
            lines.append(
                _("⚠️ Overdue: {stages}").format(
                    stages=", ".join(_(STAGE_LABELS[s]) for s in stages)
                )
            )
    n_evidence = len(evidence_of(session, complaint))
    if n_evidence:
        lines.append(
            tr.ngettext("Evidence: {n} file", "Evidence: {n} files", n_evidence).format(
                n=n_evidence
            )
        )
    if with_description:
        shown = complaint.description if reveal else mask_numbers(complaint.description)
        lines += ["", escape(shown)]
    if with_thread:
        lines += _render_thread(session, rt, complaint, tr, officer_view=True, reveal=reveal)
    return "\n".join(lines)


def render_complainant_card(
    session: Session, rt: Runtime, complaint: Complaint, tr: Translator
) -> str:
    """The ticket as its complainant sees it: status, dates, answer and the thread."""
    _ = tr.gettext
    cat = category_of(rt, complaint.category)
    lines = [
        _("🎫 <b>Complaint {ticket}</b>").format(ticket=complaint.ticket),
        _("Status: <b>{status}</b>").format(status=_(STATUS_LABELS[complaint.status])),
        _("Category: {category}").format(category=escape(cat.title(tr))),
    ]
    service = service_name(rt, complaint.service_id, tr.locale)
    if service:
        lines.append(_("Service: {service}").format(service=escape(service)))
    lines.append(_("Filed: {date}").format(date=tr.datetime(complaint.received_at, rt.tz)))
    if complaint.occurred_on:
        lines.append(_("Happened on: {date}").format(date=format_day(complaint.occurred_on, tr)))
    if complaint.place:
        lines.append(_("Place: {place}").format(place=escape(complaint.place)))
    lines.append(_("Privacy: {privacy}").format(privacy=_(PRIVACY_LABELS[complaint.privacy])))
    if complaint.unit:
        lines.append(_("Handled by: {unit}").format(unit=escape(complaint.unit)))
    if complaint.status in OPEN_STATUSES:
        if complaint.first_response_at is None:
            lines.append(
                _("First response expected by: {date}").format(
                    date=tr.date(complaint.response_due, rt.tz)
                )
            )
        lines.append(
            _("Expected to be resolved by: {date}").format(
                date=tr.date(complaint.resolve_due, rt.tz)
            )
        )
    if complaint.status == REJECTED:
        lines.append(_("Reason: {reason}").format(reason=escape(complaint.reject_reason or "")))
    if complaint.status == DUPLICATE and complaint.duplicate_of_id:
        original = session.get(Complaint, complaint.duplicate_of_id)
        lines.append(
            _("Handled under ticket {original}.").format(
                original=original.ticket if original else "-"
            )
        )
    if complaint.rating:
        lines.append(_("Your rating: {stars}").format(stars="⭐" * complaint.rating))
    lines += ["", _("<b>What you wrote</b>"), escape(complaint.description)]
    lines += _render_thread(session, rt, complaint, tr, officer_view=False)
    return "\n".join(lines)


def _render_thread(
    session: Session, rt: Runtime, complaint: Complaint, tr: Translator, *, officer_view: bool,
    reveal: bool = False,
) -> list[str]:
    messages = thread_of(session, complaint)
    if not messages:
        return []
    _ = tr.gettext
    lines = ["", _("<b>Messages</b>")]
    names = staff_labels(session, (m.author_id for m in messages)) if officer_view else {}
    for message in messages:
        if message.author_kind == "officer":
            who = escape(staff_label(names, message.author_id, tr)) if officer_view else _("Office")
        else:
            who = _("Complainant") if officer_view else _("You")
        lines.append(f"<i>{tr.datetime(message.at, rt.tz)}</i> · {who}:")
        masked = officer_view and not reveal
        lines.append(escape(mask_numbers(message.body) if masked else message.body))
    return lines


def handler_label(session: Session, complaint: Complaint, tr: Translator) -> str:
    """Who handles the ticket, as staff see it: the unit and the officer by name (HTML)."""
    parts = []
    if complaint.unit:
        parts.append(escape(complaint.unit))
    if complaint.assignee_id:
        names = staff_labels(session, [complaint.assignee_id])
        parts.append(escape(staff_label(names, complaint.assignee_id, tr)))
    return " · ".join(parts)


def format_day(day: date, tr: Translator) -> str:
    return tr.date(datetime.combine(day, time(12), tzinfo=UTC), UTC)


def render_staff_list(
    session: Session,
    rt: Runtime,
    rows: Sequence[Complaint],
    tr: Translator,
    now: datetime | None = None,
) -> str:
    """One line per ticket for /complaints, with who handles it by name; anonymous
    complainants stay anonymous."""
    _ = tr.gettext
    now = now or utcnow()
    if not rows:
        return _("No complaints match.")
    names = staff_labels(session, (c.assignee_id for c in rows))
    lines = []
    for complaint in rows:
        flag = " ⚠️" if overdue_stages(complaint, now) else ""
        handler = (
            " · 👤 " + escape(staff_label(names, complaint.assignee_id, tr))
            if complaint.assignee_id
            else ""
        )
        lines.append(
            "<b>{ticket}</b>{flag} · {status} · {category} · {who} · {due}{handler}".format(
                ticket=complaint.ticket,
                flag=flag,
                status=_(STATUS_LABELS[complaint.status]),
                category=escape(category_of(rt, complaint.category).title(tr)),
                who=complainant_label(complaint, tr),
                due=_("resolve by {date}").format(date=tr.date(complaint.resolve_due, rt.tz)),
                handler=handler,
            )
        )
    return "\n".join(lines)


# --- buttons (Bot API JSON; handlers/complaints/ reads the data back) --------------------------


def _keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in rows
        ]
    }


def staff_buttons(complaint: Complaint, tr: Translator) -> dict[str, Any] | None:
    if complaint.status in TERMINAL_STATUSES:
        return None
    _ = tr.gettext
    cid = complaint.id
    if complaint.status == RESOLVED:
        return _keyboard([[(_("💬 Reply"), CallbackData("cx", "rep", cid).pack())]])
    return _keyboard(
        [
            [
                (_("🙋 Take"), CallbackData("cx", "take", cid).pack()),
                (_("📌 Assign"), CallbackData("cx", "asg", cid).pack()),
            ],
            [
                (_("💬 Reply"), CallbackData("cx", "rep", cid).pack()),
                (_("✅ Resolve"), CallbackData("cx", "res", cid).pack()),
                (_("❌ Reject"), CallbackData("cx", "rej", cid).pack()),
            ],
        ]
    )


def view_button(complaint: Complaint, tr: Translator) -> dict[str, Any]:
    """One button for staff: the whole ticket with its messages, in their private chat."""
    data = CallbackData("cx", "view", complaint.id).pack()
    return _keyboard([[(tr.gettext("🎫 View ticket"), data)]])


def complainant_buttons(complaint: Complaint, tr: Translator) -> dict[str, Any]:
    return _keyboard(
        [
            [
                (tr.gettext("✍️ Add information"), CallbackData("cc", "add", complaint.id).pack()),
                (tr.gettext("🎫 View ticket"), CallbackData("cc", "view", complaint.id).pack()),
            ]
        ]
    )


def feedback_buttons(complaint: Complaint, tr: Translator) -> dict[str, Any]:
    return _keyboard(
        [
            [
                (tr.gettext("👍 Yes, solved"), CallbackData("cc", "fb", complaint.id, "y").pack()),
                (
                    tr.gettext("👎 No, not solved"),
                    CallbackData("cc", "fb", complaint.id, "n").pack(),
                ),
            ]
        ]
    )


def rating_buttons(complaint: Complaint) -> dict[str, Any]:
    return _keyboard(
        [[(f"{n}⭐", CallbackData("cc", "rate", complaint.id, str(n)).pack()) for n in range(1, 6)]]
    )
