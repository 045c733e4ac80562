"""Complaints (pengaduan): filing, lifecycle, time limits, escalation, access rules, reports."""

# No Telegram here. Every change is one call inside the caller's transaction, and every message
# it causes (to the complainant, the officers' group, supervisors) is queued in the outbox in that
# same transaction, rendered in the recipient's language. Buttons are the Bot API's JSON shape;
# their callback data is read back by handlers/complaints.py and checked against the presser.

from __future__ import annotations

import re
import secrets
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot.complaint_models import (
    ERASED_COMPLAINANT,
    Complaint,
    ComplaintEvidence,
    ComplaintMessage,
)
from bot.exports import Column
from bot.i18n import N_, Translator
from bot.models import OutboxMessage, Staff, User, utcnow
from bot.names import clean_name
from bot.outbox import enqueue
from bot.roles import audit, has_role, role_of
from bot.runtime import Runtime
from bot.text import escape, split_message

# --- vocabulary -------------------------------------------------------------------------------

RECEIVED = "received"
VERIFIED = "verified"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REJECTED = "rejected"
DUPLICATE = "duplicate"
STATUSES = (RECEIVED, VERIFIED, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, DUPLICATE)
OPEN_STATUSES = (RECEIVED, VERIFIED, ASSIGNED, IN_PROGRESS)
TERMINAL_STATUSES = (CLOSED, REJECTED, DUPLICATE)

# The lifecycle: every status change follows one of these edges. An action that needs several
# steps (an officer resolving a ticket nobody verified yet) walks them one by one.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({VERIFIED, REJECTED, DUPLICATE}),
    VERIFIED: frozenset({ASSIGNED, REJECTED, DUPLICATE}),
    ASSIGNED: frozenset({ASSIGNED, IN_PROGRESS, REJECTED, DUPLICATE}),
    IN_PROGRESS: frozenset({ASSIGNED, RESOLVED}),
    RESOLVED: frozenset({CLOSED, IN_PROGRESS}),
    CLOSED: frozenset(),
    REJECTED: frozenset(),
    DUPLICATE: frozenset(),
}

STATUS_LABELS = {
    RECEIVED: N_("Received"),
    VERIFIED: N_("Verified"),
    ASSIGNED: N_("Assigned"),
    IN_PROGRESS: N_("In progress"),
    RESOLVED: N_("Resolved"),
    CLOSED: N_("Closed"),
    REJECTED: N_("Rejected"),
    DUPLICATE: N_("Duplicate"),
}

NAMED = "named"
ANONYMOUS = "anonymous"
CONFIDENTIAL = "confidential"
PRIVACY_CHOICES = (NAMED, ANONYMOUS, CONFIDENTIAL)
PRIVACY_LABELS = {
    NAMED: N_("Named"),
    ANONYMOUS: N_("Anonymous"),
    CONFIDENTIAL: N_("Confidential"),
}
# Who still sees the name: shown to the citizen before they choose.
PRIVACY_NOTES = {
    NAMED: N_("The officers handling your complaint see your name."),
    ANONYMOUS: N_(
        "No officer sees your name or your Telegram account. Only the bot keeps your account, "
        "to send you the answer."
    ),
    CONFIDENTIAL: N_(
        "The officers handling your complaint see your name, but the complaint is left out "
        "of public figures."
    ),
}

PRIORITY_HIGHEST = 1
PRIORITY_HIGH = 2
PRIORITY_NORMAL = 3
PRIORITY_LABELS = {
    PRIORITY_HIGHEST: N_("highest"),
    PRIORITY_HIGH: N_("high"),
    PRIORITY_NORMAL: N_("normal"),
}

EVIDENCE_KINDS = ("photo", "document")
MAX_EVIDENCE = 10
DESCRIPTION_MIN = 20
DESCRIPTION_MAX = 3000
MESSAGE_MAX = 3000

STAGE_VERIFY = "verify"
STAGE_RESPONSE = "response"
STAGE_RESOLVE = "resolve"
STAGE_LABELS = {
    STAGE_VERIFY: N_("verification"),
    STAGE_RESPONSE: N_("first response"),
    STAGE_RESOLVE: N_("resolution"),
}

TICKET_PREFIX = "ADU-"
# No 0/O, 1/I/L: a ticket read aloud at the counter or copied from a photo stays unambiguous.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 6


# --- categories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A kind of complaint with its priority and time limit. ``label`` is a msgid, or the
    knowledge base's own wording per locale."""

    key: str
    label: str | dict[str, str]
    priority: int = PRIORITY_NORMAL
    resolve_days: int | None = None  # None: COMPLAINT_RESOLVE_DAYS
    # With supervisory content (illegal levies): the long legal limit, and supervisors are told
    # the moment it is filed.
    supervisory: bool = False

    def title(self, tr: Translator) -> str:
        if isinstance(self.label, dict):
            return self.label.get(tr.locale) or self.label.get("id") or self.key
        return tr.gettext(self.label)


DEFAULT_CATEGORIES = (
    Category("slow_service", N_("Slow service")),
    Category("fee", N_("Fee not as published"), priority=PRIORITY_HIGH),
    Category("illegal_levy", N_("Illegal levy (pungli)"), PRIORITY_HIGHEST, supervisory=True),
    Category("behaviour", N_("Officer behaviour")),
    Category("facilities", N_("Facilities")),
    Category("information", N_("Unclear information")),
    Category("other", N_("Other")),
)


def categories(rt: Runtime) -> tuple[Category, ...]:
    """The office's categories: the knowledge base's ``office.complaint_categories`` when it
    has them, otherwise the defaults above. A knowledge-base category is supervisory (pungli:
    the long limit, supervisors told at once) when it says so or when its id is listed in
    COMPLAINT_LEVY_CATEGORIES."""
    office = getattr(rt.knowledge, "office", None)
    configured = getattr(office, "complaint_categories", None)
    if not configured:
        return DEFAULT_CATEGORIES
    levy = set(rt.settings.complaint_levy_categories)
    return tuple(_category_from_config(item, levy) for item in configured)


def _category_from_config(item: Any, levy: set[str]) -> Category:
    if isinstance(item, Category):
        return item

    def get(name: str) -> Any:
        return item.get(name) if isinstance(item, dict) else getattr(item, name, None)

    key = str(get("id") or get("key"))
    supervisory = bool(get("supervisory")) or key in levy
    priority = get("priority") or (PRIORITY_HIGHEST if supervisory else PRIORITY_NORMAL)
    return Category(
        key=key,
        label=_label_of(get("name") or get("label") or key),
        priority=int(priority),
        resolve_days=get("resolve_days"),
        supervisory=supervisory,
    )


def _label_of(value: Any) -> dict[str, str]:
    """A knowledge-base text (a string, {id, en}, or its Text model) as text per locale."""
    if isinstance(value, str):
        return {"id": value}
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if v}
    return {"id": value.id, **({"en": value.en} if getattr(value, "en", None) else {})}


def category_of(rt: Runtime, key: str) -> Category:
    """The category by key; one no longer configured still shows (as its key, normal)."""
    for category in categories(rt):
        if category.key == key:
            return category
    return Category(key, {"id": key, "en": key})


@dataclass(frozen=True)
class TimeLimits:
    verify_days: int
    response_days: int
    resolve_days: int


def time_limits(rt: Runtime, category: Category) -> TimeLimits:
    settings = rt.settings
    if category.resolve_days is not None:
        resolve = category.resolve_days
    elif category.supervisory:
        resolve = settings.complaint_levy_resolve_days
    else:
        resolve = settings.complaint_resolve_days
    return TimeLimits(
        settings.complaint_verify_days,
        settings.complaint_response_days,
        max(resolve, settings.complaint_response_days),
    )


# --- errors -----------------------------------------------------------------------------------


class ComplaintError(Exception):
    """A complaint action that cannot be done; ``code`` says why, for the handler's message."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


class InvalidInput(ComplaintError):
    """What the citizen or officer typed is not acceptable (too short, bad date, ...)."""


class IllegalMove(ComplaintError):
    """The ticket's status does not allow this action."""


class NotAllowed(ComplaintError):
    """This person may not do this to this ticket."""


class LimitReached(ComplaintError):
    """The citizen has filed the day's maximum number of complaints."""


# --- who sees what ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Someone looking at or acting on tickets, with the role and unit from the database."""

    telegram_id: int
    role: str = "citizen"
    unit: str | None = None

    @property
    def is_staff(self) -> bool:
        return has_role(self.role, "officer")

    @property
    def sees_all(self) -> bool:
        return has_role(self.role, "supervisor")


def viewer_for(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> Viewer:
    role = role_of(session, telegram_id, admin_ids)
    staff = session.get(Staff, telegram_id)
    return Viewer(telegram_id, role, staff.unit if staff is not None else None)


def can_handle(viewer: Viewer, complaint: Complaint) -> bool:
    """Officers handle their unit's tickets, their own, and new ones no unit has yet (the
    shared inbox posted in the officers' group); supervisors and admins handle all."""
    if not viewer.is_staff:
        return False
    if viewer.sees_all:
        return True
    if complaint.assignee_id == viewer.telegram_id:
        return True
    if viewer.unit is not None and complaint.unit == viewer.unit:
        return True
    return complaint.unit is None and complaint.assignee_id is None


def can_view(viewer: Viewer, complaint: Complaint) -> bool:
    return complaint.complainant_id == viewer.telegram_id or can_handle(viewer, complaint)


def _handled_by(viewer: Viewer) -> ColumnElement[bool]:
    """can_handle as SQL, for lists."""
    if viewer.sees_all:
        return true()
    if not viewer.is_staff:
        return false()
    clauses: list[ColumnElement[bool]] = [
        Complaint.assignee_id == viewer.telegram_id,
        and_(col(Complaint.unit).is_(None), col(Complaint.assignee_id).is_(None)),
    ]
    if viewer.unit is not None:
        clauses.append(Complaint.unit == viewer.unit)
    return or_(*clauses)


# --- tickets ----------------------------------------------------------------------------------


def normalize_ticket(text: str) -> str | None:
    """'adu 7k3m9q', 'ADU-7K3M9Q' or '7k3m9q' -> 'ADU-7K3M9Q'; None when it cannot be one."""
    compact = re.sub(r"[\s\-_.#]", "", text.upper())
    compact = compact.removeprefix(TICKET_PREFIX.rstrip("-"))
    if len(compact) != TICKET_LENGTH or any(ch not in TICKET_ALPHABET for ch in compact):
        return None
    return TICKET_PREFIX + compact


def _new_ticket(session: Session) -> str:
    # 31**6 (~887 million) numbers: a clash is rare and simply drawn again.
    while True:
        ticket = TICKET_PREFIX + "".join(
            secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH)
        )
        if session.exec(select(Complaint.id).where(Complaint.ticket == ticket)).first() is None:
            return ticket


def get_by_ticket(session: Session, text: str) -> Complaint | None:
    ticket = normalize_ticket(text)
    if ticket is None:
        return None
    return session.exec(select(Complaint).where(Complaint.ticket == ticket)).first()


def get_complaint(session: Session, complaint_id: int, *, for_update: bool = False) -> Complaint:
    """The ticket, locked for the rest of the transaction when it is about to change (two
    officers pressing "take" at once must not both win)."""
    complaint = session.get(Complaint, complaint_id, with_for_update=for_update or None)
    if complaint is None:
        raise NotAllowed("unknown_ticket")
    return complaint


# --- input checks -----------------------------------------------------------------------------


def clean_description(text: str) -> str:
    """The description as stored; raises InvalidInput 'too_short' / 'too_long'."""
    cleaned = (text or "").strip()
    if len(cleaned) < DESCRIPTION_MIN:
        raise InvalidInput("too_short", minimum=DESCRIPTION_MIN, length=len(cleaned))
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput("too_long", maximum=DESCRIPTION_MAX, length=len(cleaned))
    return cleaned


def clean_message(text: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("empty")
    if len(cleaned) > MESSAGE_MAX:
        raise InvalidInput("too_long", maximum=MESSAGE_MAX, length=len(cleaned))
    return cleaned


_TODAY_WORDS = {"today", "hari ini", "tadi", "barusan"}
_YESTERDAY_WORDS = {"yesterday", "kemarin", "kemaren"}
_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2})$"), ("d", "m", "yy")),
)


def parse_occurred_on(text: str, today: date) -> date:
    """A day as citizens write it (17/8/2026, 2026-08-17, kemarin); never in the future."""
    value = (text or "").strip().lower()
    if value in _TODAY_WORDS:
        return today
    if value in _YESTERDAY_WORDS:
        return today - timedelta(days=1)
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(value)
        if match is None:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        year = parts.get("y") or 2000 + parts["yy"]
        try:
            day = date(year, parts["m"], parts["d"])
        except ValueError:
            break
        if day > today:
            raise InvalidInput("future_date")
        return day
    raise InvalidInput("bad_date")


def check_location(latitude: float, longitude: float) -> tuple[float, float]:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("bad_location")
    return (round(latitude, 6), round(longitude, 6))


# --- daily limit ------------------------------------------------------------------------------


def _local_day(rt: Runtime, now: datetime) -> tuple[datetime, datetime]:
    """The office day around ``now`` as a UTC half-open interval."""
    local_day = now.astimezone(rt.tz).date()
    return _period_bounds(rt, local_day, local_day)


def filed_today(session: Session, rt: Runtime, complainant_id: int, now: datetime) -> int:
    """Complaints this citizen filed on the office day of ``now``."""
    low, high = _local_day(rt, now)
    return session.exec(
        select(func.count())
        .select_from(Complaint)
        .where(
            Complaint.complainant_id == complainant_id,
            Complaint.received_at >= low,
            Complaint.received_at < high,
        )
    ).one()


def check_daily_limit(session: Session, rt: Runtime, complainant_id: int, now: datetime) -> None:
    limit = rt.settings.complaints_per_day
    if filed_today(session, rt, complainant_id, now) >= limit:
        raise LimitReached("daily_limit", limit=limit)


# --- filing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: str  # photo | document
    file_id: str


def file_complaint(
    session: Session,
    rt: Runtime,
    *,
    complainant_id: int,
    complainant_name: str | None,
    category: str,
    description: str,
    privacy: str,
    service_id: str | None = None,
    occurred_on: date | None = None,
    evidence: Sequence[Evidence] = (),
    location: tuple[float, float] | None = None,
    now: datetime | None = None,
) -> Complaint:
    """File a complaint: checks, ticket number, deadlines, and the messages to the officers'
    group (and to supervisors at once for supervisory categories)."""
    now = now or utcnow()
    known = {c.key: c for c in categories(rt)}
    if category not in known:
        raise InvalidInput("unknown_category")
    if privacy not in PRIVACY_CHOICES:
        raise InvalidInput("unknown_privacy")
    if len(evidence) > MAX_EVIDENCE or any(e.kind not in EVIDENCE_KINDS for e in evidence):
        raise InvalidInput("bad_evidence")
    text = clean_description(description)
    if location is not None:
        location = check_location(*location)
    check_daily_limit(session, rt, complainant_id, now)

    cat = known[category]
    limits = time_limits(rt, cat)
    calendar = rt.calendar
    complaint = Complaint(
        ticket=_new_ticket(session),
        complainant_id=complainant_id,
        # An anonymous complainant's name is never stored, so no screen or export can leak it.
        complainant_name=None if privacy == ANONYMOUS else (clean_name(complainant_name) or None),
        category=category,
        service_id=service_id,
        description=text,
        occurred_on=occurred_on,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        privacy=privacy,
        priority=cat.priority,
        status=RECEIVED,
        received_at=now,
        verify_due=calendar.due_at(now, limits.verify_days, "working_days"),
        response_due=calendar.due_at(now, limits.response_days, "working_days"),
        resolve_due=calendar.due_at(now, limits.resolve_days, "working_days"),
        updated_at=now,
    )
    session.add(complaint)
    session.flush()
    for item in evidence:
        session.add(
            ComplaintEvidence(
                complaint_id=complaint.id, kind=item.kind, file_id=item.file_id, added_at=now
            )
        )
    session.flush()
    audit(session, actor_id=complainant_id, action="complaint.filed", subject=complaint.ticket)

    chat_id = rt.settings.complaints_chat_id
    if chat_id is not None:
        _post_to_staff(session, rt, complaint, chat_id, rt.settings.default_locale, "new")
    if cat.supervisory or cat.priority == PRIORITY_HIGHEST:
        for supervisor in supervisors_for(session, complaint):
            _post_to_staff(
                session,
                rt,
                complaint,
                supervisor,
                user_locale(session, rt, supervisor),
                "urgent",
                dedupe_key=f"cmp:{complaint.id}:urgent:{supervisor}",
            )
    return complaint


def _post_to_staff(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    chat_id: int,
    locale: str,
    kind: str,
    *,
    dedupe_key: str | None = None,
) -> None:
    """The ticket card with the officers' buttons, then its location and evidence by file id."""
    tr = Translator(locale)
    headline = (
        tr.gettext("📣 <b>New complaint {ticket}</b>")
        if kind == "new"
        else tr.gettext(
            "🚨 <b>Highest priority complaint {ticket}</b>: supervisors are told at once"
        )
    ).format(ticket=complaint.ticket)
    text = headline + "\n" + render_staff_card(session, rt, complaint, tr)
    _enqueue_long(session, chat_id, text, staff_buttons(complaint, tr), dedupe_key=dedupe_key)
    _enqueue_attachments(session, rt, complaint, chat_id, tr, dedupe_key=dedupe_key)


def _enqueue_attachments(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    chat_id: int,
    tr: Translator,
    *,
    evidence: Sequence[ComplaintEvidence] | None = None,
    dedupe_key: str | None = None,
) -> None:
    if evidence is None:
        evidence = evidence_of(session, complaint)
        if complaint.latitude is not None and complaint.longitude is not None:
            enqueue(
                session,
                chat_id=chat_id,
                method="sendLocation",
                latitude=complaint.latitude,
                longitude=complaint.longitude,
                dedupe_key=f"{dedupe_key}:loc" if dedupe_key else None,
            )
    caption = tr.gettext("Evidence for {ticket}").format(ticket=complaint.ticket)
    for item in evidence:
        param = "photo" if item.kind == "photo" else "document"
        enqueue(
            session,
            chat_id=chat_id,
            method="sendPhoto" if item.kind == "photo" else "sendDocument",
            caption=caption,
            dedupe_key=f"{dedupe_key}:ev{item.id}" if dedupe_key else None,
            **{param: item.file_id},
        )


def _enqueue_long(
    session: Session,
    chat_id: int,
    text: str,
    reply_markup: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Queue text of any length as several messages; the buttons go under the last one."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        enqueue(
            session,
            chat_id=chat_id,
            text=part,
            reply_markup=reply_markup if last else None,
            disable_web_page_preview=True,
            dedupe_key=f"{dedupe_key}:{index}" if dedupe_key else None,
        )


def evidence_of(session: Session, complaint: Complaint) -> list[ComplaintEvidence]:
    return list(
        session.exec(
            select(ComplaintEvidence)
            .where(ComplaintEvidence.complaint_id == complaint.id)
            .order_by(col(ComplaintEvidence.id))
        ).all()
    )


def thread_of(session: Session, complaint: Complaint) -> list[ComplaintMessage]:
    return list(
        session.exec(
            select(ComplaintMessage)
            .where(ComplaintMessage.complaint_id == complaint.id)
            .order_by(col(ComplaintMessage.at), col(ComplaintMessage.id))
        ).all()
    )


def supervisors_for(session: Session, complaint: Complaint) -> list[int]:
    """Supervisors (and staff admins) over this ticket: those of its unit and those with none."""
    query = select(Staff.telegram_id).where(col(Staff.role).in_(("supervisor", "admin")))
    if complaint.unit is not None:
        query = query.where(or_(col(Staff.unit).is_(None), Staff.unit == complaint.unit))
    return sorted(session.exec(query).all())


def units(session: Session) -> list[str]:
    """The units that have staff, for the assign buttons."""
    rows = session.exec(select(Staff.unit).where(col(Staff.unit).is_not(None)).distinct())
    return sorted(u for u in rows.all() if u)


UNIT_MAX = 80


def set_staff_unit(
    session: Session, *, telegram_id: int, unit: str | None, actor_id: int | None
) -> Staff:
    """Put a staff member in a unit (None: no unit). Officers handle their unit's tickets."""
    staff = session.get(Staff, telegram_id)
    if staff is None:
        raise InvalidInput("unknown_officer")
    cleaned = (unit or "").strip() or None
    if cleaned is not None and len(cleaned) > UNIT_MAX:
        raise InvalidInput("too_long", maximum=UNIT_MAX, length=len(cleaned))
    before, staff.unit = staff.unit, cleaned
    session.add(staff)
    audit(
        session,
        actor_id=actor_id,
        action="staff.unit",
        subject=str(telegram_id),
        unit=cleaned,
        before=before,
    )
    return staff


def assignable_staff(session: Session) -> list[Staff]:
    """Officers and supervisors a ticket can be given to, by unit."""
    return list(
        session.exec(
            select(Staff)
            .where(col(Staff.role).in_(("officer", "supervisor")))
            .order_by(col(Staff.unit), col(Staff.telegram_id))
        ).all()
    )


def user_locale(session: Session, rt: Runtime, telegram_id: int) -> str:
    user = session.get(User, telegram_id)
    return user.language if user is not None else rt.settings.default_locale


# --- status changes ---------------------------------------------------------------------------


def _walk(complaint: Complaint, path: Sequence[str], action: str) -> None:
    """Move along ``path``, every step an allowed edge, or change nothing at all."""
    current = complaint.status
    for target in path:
        if target not in ALLOWED_MOVES[current]:
            raise IllegalMove("illegal_move", status=complaint.status, action=action)
        current = target
    complaint.status = current


def _path_to_assigned(complaint: Complaint) -> list[str]:
    return {
        RECEIVED: [VERIFIED, ASSIGNED],
        VERIFIED: [ASSIGNED],
        ASSIGNED: [ASSIGNED],
        IN_PROGRESS: [ASSIGNED],
    }.get(complaint.status, [ASSIGNED])


def _path_to_in_progress(complaint: Complaint) -> list[str]:
    return {
        RECEIVED: [VERIFIED, ASSIGNED, IN_PROGRESS],
        VERIFIED: [ASSIGNED, IN_PROGRESS],
        ASSIGNED: [IN_PROGRESS],
        IN_PROGRESS: [],
    }.get(complaint.status, [IN_PROGRESS])


def _require_handler(viewer: Viewer, complaint: Complaint) -> None:
    if not can_handle(viewer, complaint):
        raise NotAllowed("not_your_ticket")


def _stamp(complaint: Complaint, now: datetime) -> None:
    if complaint.status != RECEIVED and complaint.verified_at is None:
        complaint.verified_at = now
    complaint.updated_at = now


def verify(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    now: datetime | None = None,
) -> Complaint:
    """Checked: a real complaint, complete enough to handle."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    _walk(complaint, [VERIFIED], "verify")
    _stamp(complaint, now)
    _changed(session, rt, complaint, actor, "verified")
    return complaint


def assign(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    unit: str | None = None,
    assignee_id: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Give the ticket to a unit, or to one officer (whose unit it then belongs to)."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if assignee_id is not None:
        staff = session.get(Staff, assignee_id)
        if staff is None:
            raise InvalidInput("unknown_officer")
        unit = staff.unit
    elif unit is None or unit not in units(session):
        raise InvalidInput("unknown_unit")
    _walk(complaint, _path_to_assigned(complaint), "assign")
    complaint.unit = unit
    complaint.assignee_id = assignee_id
    complaint.assigned_at = now
    _stamp(complaint, now)
    _changed(session, rt, complaint, actor, "assigned", unit=unit, assignee=assignee_id)
    if assignee_id is not None and assignee_id != actor.telegram_id:
        locale = user_locale(session, rt, assignee_id)
        tr = Translator(locale)
        text = (
            tr.gettext("📌 Complaint {ticket} has been assigned to you.").format(
                ticket=complaint.ticket
            )
            + "\n"
            + render_staff_card(session, rt, complaint, tr)
        )
        _enqueue_long(session, assignee_id, text, staff_buttons(complaint, tr))
    return complaint


def take(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    now: datetime | None = None,
) -> Complaint:
    """The officer who pressed "take" handles it. Taking a ticket someone else holds is for
    supervisors only."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if complaint.assignee_id == actor.telegram_id:
        raise IllegalMove("already_yours", status=complaint.status, action="take")
    if complaint.assignee_id is not None and not actor.sees_all:
        raise NotAllowed("taken_by_other")
    _walk(complaint, _path_to_assigned(complaint), "take")
    complaint.assignee_id = actor.telegram_id
    complaint.unit = actor.unit if actor.unit is not None else complaint.unit
    complaint.assigned_at = now
    _stamp(complaint, now)
    _changed(
        session, rt, complaint, actor, "assigned", unit=complaint.unit, assignee=actor.telegram_id
    )
    return complaint


def _claim_for_work(complaint: Complaint, actor: Viewer, action: str, now: datetime) -> bool:
    """Move a ticket to in progress for an officer answering it; True when the status moved.
    An unassigned ticket becomes the answering officer's."""
    path = _path_to_in_progress(complaint)
    _walk(complaint, path, action)
    if complaint.assignee_id is None:
        complaint.assignee_id = actor.telegram_id
        complaint.unit = complaint.unit or actor.unit
        complaint.assigned_at = complaint.assigned_at or now
    return bool(path)


def reply(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    body: str,
    now: datetime | None = None,
) -> ComplaintMessage:
    """An officer's answer in the ticket's thread; the first one is the first response."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(body)
    if complaint.status in TERMINAL_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="reply")
    moved = complaint.status != RESOLVED and _claim_for_work(complaint, actor, "reply", now)
    complaint.first_response_at = complaint.first_response_at or now
    _stamp(complaint, now)
    message = ComplaintMessage(
        complaint_id=complaint.id,
        author_id=actor.telegram_id,
        author_kind="officer",
        body=text,
        at=now,
    )
    session.add(message)
    audit(session, actor_id=actor.telegram_id, action="complaint.reply", subject=complaint.ticket)
    if not complainant_reachable(complaint):
        session.flush()
        return
    tr = Translator(user_locale(session, rt, complaint.complainant_id))
    lines = [
        tr.gettext("💬 <b>Reply from the office on {ticket}</b>").format(ticket=complaint.ticket),
        "",
        escape(text),
    ]
    if moved:
        lines += ["", _status_line(complaint, tr, rt)]
    _enqueue_long(
        session, complaint.complainant_id, "\n".join(lines), complainant_buttons(complaint, tr)
    )
    session.flush()
    return message


def resolve(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    answer: str,
    now: datetime | None = None,
) -> Complaint:
    """The office's answer; the complainant is asked whether it solved the problem."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(answer)
    if complaint.status not in OPEN_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="resolve")
    _claim_for_work(complaint, actor, "resolve", now)
    _walk(complaint, [RESOLVED], "resolve")
    complaint.answer = text
    complaint.first_response_at = complaint.first_response_at or now
    complaint.resolved_at = now
    complaint.close_due = rt.calendar.due_at(
        now, rt.settings.complaint_silence_days, "working_days"
    )
    complaint.solved = None
    complaint.rating = None
    complaint.feedback_at = None
    _stamp(complaint, now)
    session.add(
        ComplaintMessage(
            complaint_id=complaint.id,
            author_id=actor.telegram_id,
            author_kind="officer",
            body=text,
            at=now,
        )
    )
    _changed(session, rt, complaint, actor, "resolved")
    return complaint


def reject(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    reason: str,
    now: datetime | None = None,
) -> Complaint:
    now = now or utcnow()
    _require_handler(actor, complaint)
    text = clean_message(reason)
    _walk(complaint, [REJECTED], "reject")
    complaint.reject_reason = text
    complaint.closed_at = now
    _stamp(complaint, now)
    _changed(session, rt, complaint, actor, "rejected")
    return complaint


def mark_duplicate(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    actor: Viewer,
    original: Complaint,
    now: datetime | None = None,
) -> Complaint:
    """The same matter is already handled under ``original``."""
    now = now or utcnow()
    _require_handler(actor, complaint)
    if original.id == complaint.id or original.status == DUPLICATE:
        raise InvalidInput("bad_original")
    _walk(complaint, [DUPLICATE], "duplicate")
    complaint.duplicate_of_id = original.id
    complaint.closed_at = now
    _stamp(complaint, now)
    _changed(session, rt, complaint, actor, "duplicate", original=original.ticket)
    return complaint


def add_addition(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    body: str,
    evidence: Sequence[Evidence] = (),
    now: datetime | None = None,
) -> ComplaintMessage:
    """The complainant adds information or answers back; the officers see it."""
    now = now or utcnow()
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if complaint.status in TERMINAL_STATUSES:
        raise IllegalMove("illegal_move", status=complaint.status, action="add")
    text = clean_message(body)
    if any(e.kind not in EVIDENCE_KINDS for e in evidence):
        raise InvalidInput("bad_evidence")
    total = len(evidence_of(session, complaint)) + len(evidence)
    if total > MAX_EVIDENCE * 2:
        raise InvalidInput("bad_evidence")
    message = ComplaintMessage(
        complaint_id=complaint.id,
        author_id=complainant_id,
        author_kind="complainant",
        body=text,
        at=now,
    )
    session.add(message)
    new_evidence = [
        ComplaintEvidence(complaint_id=complaint.id, kind=e.kind, file_id=e.file_id, added_at=now)
        for e in evidence
    ]
    session.add_all(new_evidence)
    complaint.updated_at = now
    session.flush()
    for chat_id, locale in _officer_recipients(session, rt, complaint):
        tr = Translator(locale)
        lines = [
            tr.gettext("✍️ <b>The complainant added to {ticket}</b>").format(
                ticket=complaint.ticket
            ),
            "",
            escape(text),
        ]
        _enqueue_long(session, chat_id, "\n".join(lines), staff_buttons(complaint, tr))
        _enqueue_attachments(session, rt, complaint, chat_id, tr, evidence=new_evidence)
    return message


def _officer_recipients(
    session: Session, rt: Runtime, complaint: Complaint
) -> list[tuple[int, str]]:
    """Who hears about a ticket's news: its officer, else the group, else its supervisors."""
    if complaint.assignee_id is not None:
        return [(complaint.assignee_id, user_locale(session, rt, complaint.assignee_id))]
    if rt.settings.complaints_chat_id is not None:
        return [(rt.settings.complaints_chat_id, rt.settings.default_locale)]
    return [(s, user_locale(session, rt, s)) for s in supervisors_for(session, complaint)]


def record_feedback(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    *,
    complainant_id: int,
    solved: bool,
    now: datetime | None = None,
) -> Complaint:
    """ "Is it solved?" Yes closes the ticket; no reopens it for the officers."""
    now = now or utcnow()
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if complaint.status != RESOLVED:
        raise IllegalMove("illegal_move", status=complaint.status, action="feedback")
    complaint.solved = solved
    complaint.feedback_at = now
    actor = Viewer(complainant_id)
    if solved:
        _walk(complaint, [CLOSED], "feedback")
        complaint.closed_at = now
        complaint.updated_at = now
        _changed(session, rt, complaint, actor, "closed")
        return complaint
    _walk(complaint, [IN_PROGRESS], "feedback")
    complaint.reopen_count += 1
    complaint.resolved_at = None
    complaint.close_due = None
    complaint.updated_at = now
    _changed(session, rt, complaint, actor, "reopened")
    for chat_id, locale in _officer_recipients(session, rt, complaint):
        tr = Translator(locale)
        text = tr.gettext(
            "🔁 The complainant says complaint {ticket} is <b>not solved</b>; it is open again."
        ).format(ticket=complaint.ticket)
        _enqueue_long(session, chat_id, text, staff_buttons(complaint, tr))
    return complaint


def record_rating(
    session: Session,
    complaint: Complaint,
    *,
    complainant_id: int,
    rating: int,
    now: datetime | None = None,
) -> Complaint:
    """1-5 stars, once per answer, after the yes/no question."""
    if complaint.complainant_id != complainant_id:
        raise NotAllowed("not_your_ticket")
    if not 1 <= rating <= 5:
        raise InvalidInput("bad_rating")
    if complaint.feedback_at is None or complaint.rating is not None:
        raise IllegalMove("illegal_move", status=complaint.status, action="rate")
    complaint.rating = rating
    complaint.updated_at = now or utcnow()
    audit(
        session,
        actor_id=complainant_id,
        action="complaint.rated",
        subject=complaint.ticket,
        rating=rating,
    )
    return complaint


def _changed(
    session: Session, rt: Runtime, complaint: Complaint, actor: Viewer, event: str, **detail: Any
) -> None:
    """Audit the change and tell the complainant, in their language, in this transaction."""
    session.add(complaint)
    audit(
        session,
        actor_id=actor.telegram_id,
        action=f"complaint.{event}",
        subject=complaint.ticket,
        **detail,
    )
    notify_complainant(session, rt, complaint, event)


def complainant_reachable(complaint: Complaint) -> bool:
    """False once the complainant had their personal data erased (the ticket keeps its content
    for the office, but there is nobody left to tell)."""
    return complaint.complainant_id != ERASED_COMPLAINANT


def notify_complainant(session: Session, rt: Runtime, complaint: Complaint, event: str) -> None:
    if not complainant_reachable(complaint):
        return
    tr = Translator(user_locale(session, rt, complaint.complainant_id))
    _ = tr.gettext
    ticket = f"<b>{complaint.ticket}</b>"
    markup: dict[str, Any] | None = None
    if event == "verified":
        lines = [
            _("✅ Your complaint {ticket} has been checked and accepted for handling.").format(
                ticket=ticket
            )
        ]
    elif event == "assigned" and complaint.unit:
        lines = [
            _("📌 Your complaint {ticket} is now handled by {unit}.").format(
                ticket=ticket, unit=escape(complaint.unit)
            )
        ]
    elif event == "assigned":
        lines = [
            _("📌 Your complaint {ticket} has been given to an officer.").format(ticket=ticket)
        ]
    elif event == "resolved":
        lines = [
            _("✅ Your complaint {ticket} has been answered:").format(ticket=ticket),
            "",
            escape(complaint.answer or ""),
            "",
            _("Is your problem solved?"),
        ]
        markup = feedback_buttons(complaint, tr)
    elif event == "closed":
        lines = [
            _("🔒 Your complaint {ticket} is closed. Thank you for telling us.").format(
                ticket=ticket
            )
        ]
    elif event == "closed_silent":
        lines = [
            _(
                "🔒 Your complaint {ticket} is closed: we had no answer from you within "
                "{days} working days after our reply."
            ).format(ticket=ticket, days=rt.settings.complaint_silence_days)
        ]
    elif event == "reopened":
        lines = [
            _("🔁 Your complaint {ticket} is open again; the officers will follow it up.").format(
                ticket=ticket
            )
        ]
    elif event == "rejected":
        lines = [
            _("❌ Your complaint {ticket} cannot be processed.").format(ticket=ticket),
            _("Reason: {reason}").format(reason=escape(complaint.reject_reason or "")),
        ]
    elif event == "duplicate":
        original = session.get(Complaint, complaint.duplicate_of_id)
        lines = [
            _(
                "🔗 Your complaint {ticket} is about a matter already handled under ticket "
                "{original}; it is followed up there."
            ).format(ticket=ticket, original=original.ticket if original else "-")
        ]
    else:
        raise ValueError(f"unknown complaint event {event!r}")
    if complaint.status in OPEN_STATUSES:
        lines += ["", _status_line(complaint, tr, rt)]
        markup = complainant_buttons(complaint, tr)
    _enqueue_long(session, complaint.complainant_id, "\n".join(lines), markup)


def _status_line(complaint: Complaint, tr: Translator, rt: Runtime) -> str:
    return tr.gettext("Status: {status}. Expected to be resolved by {date}.").format(
        status=tr.gettext(STATUS_LABELS[complaint.status]),
        date=tr.date(complaint.resolve_due, rt.tz),
    )


# --- time limits, escalation, silent closing --------------------------------------------------


def overdue_stages(complaint: Complaint, now: datetime) -> list[str]:
    """The deadlines this ticket has missed and still owes."""
    stages: list[str] = []
    if complaint.status == RECEIVED and now > complaint.verify_due:
        stages.append(STAGE_VERIFY)
    if complaint.status in OPEN_STATUSES:
        if complaint.first_response_at is None and now > complaint.response_due:
            stages.append(STAGE_RESPONSE)
        if now > complaint.resolve_due:
            stages.append(STAGE_RESOLVE)
    return stages


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    """overdue_stages(...) != [] as SQL."""
    is_open = col(Complaint.status).in_(OPEN_STATUSES)
    return or_(
        and_(Complaint.status == RECEIVED, Complaint.verify_due < now),
        and_(is_open, col(Complaint.first_response_at).is_(None), Complaint.response_due < now),
        and_(is_open, Complaint.resolve_due < now),
    )


def _stage_due(complaint: Complaint, stage: str) -> datetime:
    return {
        STAGE_VERIFY: complaint.verify_due,
        STAGE_RESPONSE: complaint.response_due,
        STAGE_RESOLVE: complaint.resolve_due,
    }[stage]


def escalate_overdue(session: Session, rt: Runtime, now: datetime | None = None) -> int:
    """Remind the assignee and tell the supervisors about every missed deadline, once each
    (the outbox's dedupe keys make a second run queue nothing). Returns messages queued."""
    now = now or utcnow()
    queued = 0
    overdue = session.exec(
        select(Complaint)
        .where(_overdue_clause(now))
        .order_by(col(Complaint.priority), col(Complaint.id))
    ).all()
    for complaint in overdue:
        for stage in overdue_stages(complaint, now):
            # A reopened ticket's deadlines count again: the round is part of the key.
            base = f"cmp:{complaint.id}:{complaint.reopen_count}:{stage}"
            due = _stage_due(complaint, stage)
            if complaint.assignee_id is not None:
                queued += _queue_once(
                    session,
                    f"{base}:remind:{complaint.assignee_id}",
                    lambda key, c=complaint, s=stage, d=due: _remind(session, rt, c, s, d, key),
                )
            recipients = supervisors_for(session, complaint)
            if not recipients and rt.settings.complaints_chat_id is not None:
                recipients = [rt.settings.complaints_chat_id]
            for chat_id in recipients:
                queued += _queue_once(
                    session,
                    f"{base}:escalate:{chat_id}",
                    lambda key, c=complaint, s=stage, d=due, to=chat_id: _escalate(
                        session, rt, c, s, d, to, key
                    ),
                )
    return queued


def _queue_once(session: Session, key: str, queue: Callable[[str], None]) -> int:
    # Checked first so rendering is skipped on every later run; enqueue's key is the guarantee.
    exists = session.exec(
        select(OutboxMessage.id).where(col(OutboxMessage.dedupe_key).startswith(key + ":"))
    ).first()
    if exists is not None:
        return 0
    queue(key)
    audit(session, actor_id=None, action="complaint.escalated", subject=key)
    return 1


def _remind(
    session: Session, rt: Runtime, complaint: Complaint, stage: str, due: datetime, key: str
) -> None:
    tr = Translator(user_locale(session, rt, complaint.assignee_id))
    text = tr.gettext(
        "⏰ <b>Reminder</b>: complaint {ticket} is overdue. The {stage} was due on {date}."
    ).format(
        ticket=complaint.ticket, stage=tr.gettext(STAGE_LABELS[stage]), date=tr.date(due, rt.tz)
    )
    text += "\n" + render_staff_card(session, rt, complaint, tr)
    _enqueue_long(
        session, complaint.assignee_id, text, staff_buttons(complaint, tr), dedupe_key=key
    )


def _escalate(
    session: Session,
    rt: Runtime,
    complaint: Complaint,
    stage: str,
    due: datetime,
    chat_id: int,
    key: str,
) -> None:
    locale = (
        rt.settings.default_locale
        if chat_id == rt.settings.complaints_chat_id
        else user_locale(session, rt, chat_id)
    )
    tr = Translator(locale)
    text = tr.gettext(
        "🚨 <b>Overdue complaint {ticket}</b>: the {stage} was due on {date}."
    ).format(
        ticket=complaint.ticket, stage=tr.gettext(STAGE_LABELS[stage]), date=tr.date(due, rt.tz)
    )
    text += "\n" + render_staff_card(session, rt, complaint, tr)
    _enqueue_long(session, chat_id, text, staff_buttons(complaint, tr), dedupe_key=key)


def close_silent(session: Session, rt: Runtime, now: datetime | None = None) -> int:
    """Close answered tickets whose complainant said nothing for the silence period."""
    now = now or utcnow()
    due = session.exec(
        select(Complaint).where(
            Complaint.status == RESOLVED,
            col(Complaint.feedback_at).is_(None),
            Complaint.close_due < now,
        )
    ).all()
    for complaint in due:
        _walk(complaint, [CLOSED], "close")
        complaint.closed_at = now
        complaint.updated_at = now
        session.add(complaint)
        audit(session, actor_id=None, action="complaint.closed_silent", subject=complaint.ticket)
        notify_complainant(session, rt, complaint, "closed_silent")
    return len(due)


# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None  # a status, "open" (default) or "all"
    category: str | None = None
    overdue: bool = False
    mine: bool = False


def list_for_staff(
    session: Session,
    viewer: Viewer,
    flt: ListFilter,
    *,
    now: datetime | None = None,
    limit: int = 30,
) -> list[Complaint]:
    """The tickets this officer may handle, most urgent first."""
    now = now or utcnow()
    query = select(Complaint).where(_handled_by(viewer))
    status = flt.status or "open"
    if status == "open":
        query = query.where(col(Complaint.status).in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(Complaint.status == status)
    if flt.category:
        query = query.where(Complaint.category == flt.category)
    if flt.overdue:
        query = query.where(_overdue_clause(now))
    if flt.mine:
        query = query.where(Complaint.assignee_id == viewer.telegram_id)
    query = query.order_by(
        col(Complaint.priority), col(Complaint.resolve_due), col(Complaint.id)
    ).limit(limit)
    return list(session.exec(query).all())


def list_for_complainant(
    session: Session, complainant_id: int, *, limit: int = 20
) -> list[Complaint]:
    return list(
        session.exec(
            select(Complaint)
            .where(Complaint.complainant_id == complainant_id)
            .order_by(col(Complaint.received_at).desc(), col(Complaint.id).desc())
            .limit(limit)
        ).all()
    )


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
) -> str:
    """The ticket as officers see it. Never the complainant's Telegram id; no name when
    anonymous."""
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
    if complaint.latitude is not None:
        lines.append(
            _("Location: {lat}, {lon}").format(lat=complaint.latitude, lon=complaint.longitude)
        )
    if complaint.unit or complaint.assignee_id:
        lines.append(_("Handled by: {who}").format(who=handler_label(complaint, tr)))
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
    lines += ["", escape(complaint.description)]
    if with_thread:
        lines += _render_thread(session, rt, complaint, tr, officer_view=True)
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
    session: Session, rt: Runtime, complaint: Complaint, tr: Translator, *, officer_view: bool
) -> list[str]:
    messages = thread_of(session, complaint)
    if not messages:
        return []
    _ = tr.gettext
    lines = ["", _("<b>Messages</b>")]
    for message in messages:
        if message.author_kind == "officer":
            who = _("Officer") if officer_view else _("Office")
        else:
            who = _("Complainant") if officer_view else _("You")
        lines.append(f"<i>{tr.datetime(message.at, rt.tz)}</i> · {who}:")
        lines.append(escape(message.body))
    return lines


def handler_label(complaint: Complaint, tr: Translator) -> str:
    parts = []
    if complaint.unit:
        parts.append(escape(complaint.unit))
    if complaint.assignee_id:
        parts.append(tr.gettext("officer {id}").format(id=complaint.assignee_id))
    return " · ".join(parts)


def format_day(day: date, tr: Translator) -> str:
    return tr.date(datetime.combine(day, time(12), tzinfo=UTC), UTC)


def render_staff_list(
    rt: Runtime, rows: Sequence[Complaint], tr: Translator, now: datetime | None = None
) -> str:
    """One line per ticket for /complaints; anonymous complainants stay anonymous."""
    _ = tr.gettext
    now = now or utcnow()
    if not rows:
        return _("No complaints match.")
    lines = []
    for complaint in rows:
        flag = " ⚠️" if overdue_stages(complaint, now) else ""
        lines.append(
            "<b>{ticket}</b>{flag} · {status} · {category} · {who} · {due}".format(
                ticket=complaint.ticket,
                flag=flag,
                status=_(STATUS_LABELS[complaint.status]),
                category=escape(category_of(rt, complaint.category).title(tr)),
                who=complainant_label(complaint, tr),
                due=_("resolve by {date}").format(date=tr.date(complaint.resolve_due, rt.tz)),
            )
        )
    return "\n".join(lines)


# --- buttons (Bot API JSON; handlers/complaints.py reads the data back) ------------------------


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
        return _keyboard([[(_("💬 Reply"), f"cx:rep:{cid}")]])
    return _keyboard(
        [
            [(_("🙋 Take"), f"cx:take:{cid}"), (_("📌 Assign"), f"cx:asg:{cid}")],
            [
                (_("💬 Reply"), f"cx:rep:{cid}"),
                (_("✅ Resolve"), f"cx:res:{cid}"),
                (_("❌ Reject"), f"cx:rej:{cid}"),
            ],
        ]
    )


def complainant_buttons(complaint: Complaint, tr: Translator) -> dict[str, Any]:
    return _keyboard(
        [
            [
                (tr.gettext("✍️ Add information"), f"cc:add:{complaint.id}"),
                (tr.gettext("🎫 View ticket"), f"cc:view:{complaint.id}"),
            ]
        ]
    )


def feedback_buttons(complaint: Complaint, tr: Translator) -> dict[str, Any]:
    return _keyboard(
        [
            [
                (tr.gettext("👍 Yes, solved"), f"cc:fb:{complaint.id}:y"),
                (tr.gettext("👎 No, not solved"), f"cc:fb:{complaint.id}:n"),
            ]
        ]
    )


def rating_buttons(complaint: Complaint) -> dict[str, Any]:
    return _keyboard([[(f"{n}⭐", f"cc:rate:{complaint.id}:{n}") for n in range(1, 6)]])


# --- reports and exports ----------------------------------------------------------------------


@dataclass
class ComplaintReport:
    start: date
    end: date
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    median_first_response: timedelta | None = None
    median_resolution: timedelta | None = None
    responded_on_time: int = 0
    response_counted: int = 0
    resolved_on_time: int = 0
    resolution_counted: int = 0

    @property
    def response_share(self) -> float | None:
        return self.responded_on_time / self.response_counted if self.response_counted else None

    @property
    def resolution_share(self) -> float | None:
        return self.resolved_on_time / self.resolution_counted if self.resolution_counted else None


def _period_bounds(rt: Runtime, start: date, end: date) -> tuple[datetime, datetime]:
    """Local days start..end inclusive, as a UTC half-open interval."""
    low = datetime.combine(start, time(0), tzinfo=rt.tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=rt.tz).astimezone(UTC)
    return low, high


def complaint_report(
    session: Session,
    rt: Runtime,
    start: date,
    end: date,
    *,
    public: bool = False,
    now: datetime | None = None,
) -> ComplaintReport:
    """Figures for complaints received from ``start`` to ``end`` (office days, inclusive).
    ``public`` leaves confidential complaints out, as published figures must."""
    now = now or utcnow()
    low, high = _period_bounds(rt, start, end)
    scope = [Complaint.received_at >= low, Complaint.received_at < high]
    if public:
        scope.append(Complaint.privacy != CONFIDENTIAL)
    report = ComplaintReport(start, end)
    for key, count in session.exec(
        select(Complaint.category, func.count()).where(*scope).group_by(Complaint.category)
    ).all():
        report.by_category[key] = count
    for key, count in session.exec(
        select(Complaint.status, func.count()).where(*scope).group_by(Complaint.status)
    ).all():
        report.by_status[key] = count
    report.total = sum(report.by_status.values())

    handled = col(Complaint.status).not_in((REJECTED, DUPLICATE))
    responded = col(Complaint.first_response_at).is_not(None)
    resolved = col(Complaint.resolved_at).is_not(None)
    row = session.exec(
        select(
            func.sum(
                case(
                    (and_(responded, Complaint.first_response_at <= Complaint.response_due), 1),
                    else_=0,
                )
            ),
            func.sum(case((or_(responded, Complaint.response_due < now), 1), else_=0)),
            func.sum(
                case((and_(resolved, Complaint.resolved_at <= Complaint.resolve_due), 1), else_=0)
            ),
            func.sum(case((or_(resolved, Complaint.resolve_due < now), 1), else_=0)),
        ).where(*scope, handled)
    ).one()
    (
        report.responded_on_time,
        report.response_counted,
        report.resolved_on_time,
        report.resolution_counted,
    ) = (int(v or 0) for v in row)

    # Medians over the few hundred tickets of a period: computed here so that SQLite (which has
    # no percentile function) and PostgreSQL give the same figure.
    times = session.exec(
        select(Complaint.received_at, Complaint.first_response_at, Complaint.resolved_at).where(
            *scope, handled
        )
    ).all()
    first = [r - rec for rec, r, _res in times if r is not None]
    done = [res - rec for rec, _r, res in times if res is not None]
    report.median_first_response = statistics.median(first) if first else None
    report.median_resolution = statistics.median(done) if done else None
    return report


def _duration(delta: timedelta | None, tr: Translator) -> str:
    if delta is None:
        return "-"
    hours = round(delta.total_seconds() / 3600)
    days, hours = divmod(hours, 24)
    if days:
        return tr.ngettext("{n} day", "{n} days", days).format(n=days) + (
            " " + tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours) if hours else ""
        )
    return tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def _share(part: int, whole: int, share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}% ({part}/{whole})"


def render_report(rt: Runtime, report: ComplaintReport, tr: Translator) -> str:
    _ = tr.gettext
    lines = [
        _("📊 <b>Complaints {start} – {end}</b>").format(
            start=format_day(report.start, tr), end=format_day(report.end, tr)
        ),
        _("Received: {n}").format(n=report.total),
    ]
    if report.total:
        lines += ["", _("<b>By category</b>")]
        for key, count in sorted(report.by_category.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"• {escape(category_of(rt, key).title(tr))}: {count}")
        lines += ["", _("<b>By status</b>")]
        for status in STATUSES:
            if report.by_status.get(status):
                lines.append(f"• {_(STATUS_LABELS[status])}: {report.by_status[status]}")
    lines += [
        "",
        _("Median time to first response: {t}").format(
            t=_duration(report.median_first_response, tr)
        ),
        _("Median time to resolution: {t}").format(t=_duration(report.median_resolution, tr)),
        _("First response within the time limit: {share}").format(
            share=_share(report.responded_on_time, report.response_counted, report.response_share)
        ),
        _("Resolved within the time limit: {share}").format(
            share=_share(
                report.resolved_on_time, report.resolution_counted, report.resolution_share
            )
        ),
    ]
    return "\n".join(lines)


EXPORT_COLUMNS = (
    Column("ticket"),
    Column("received_at", "datetime"),
    Column("category"),
    Column("service_id"),
    Column("privacy"),
    Column("complainant"),
    Column("status"),
    Column("unit"),
    Column("priority"),
    Column("verify_due", "datetime"),
    Column("response_due", "datetime"),
    Column("resolve_due", "datetime"),
    Column("first_response_at", "datetime"),
    Column("resolved_at", "datetime"),
    Column("closed_at", "datetime"),
    Column("solved"),
    Column("rating", "int"),
    Column("description"),
)


def export_rows(
    session: Session, rt: Runtime, start: date, end: date, *, public: bool = False
) -> list[dict[str, Any]]:
    """Rows for a spreadsheet (times in the office's zone, keyed by EXPORT_COLUMNS). The
    complainant column holds a name only for named and confidential complaints; no Telegram
    id is ever exported."""
    low, high = _period_bounds(rt, start, end)
    query = select(Complaint).where(Complaint.received_at >= low, Complaint.received_at < high)
    if public:
        query = query.where(Complaint.privacy != CONFIDENTIAL)
    rows = []
    for c in session.exec(query.order_by(col(Complaint.received_at))).all():
        rows.append(
            {
                "ticket": c.ticket,
                "received_at": _local(c.received_at, rt),
                "category": c.category,
                "service_id": c.service_id or "",
                "privacy": c.privacy,
                "complainant": "" if c.privacy == ANONYMOUS else clean_name(c.complainant_name),
                "status": c.status,
                "unit": c.unit or "",
                "priority": c.priority,
                "verify_due": _local(c.verify_due, rt),
                "response_due": _local(c.response_due, rt),
                "resolve_due": _local(c.resolve_due, rt),
                "first_response_at": _local(c.first_response_at, rt),
                "resolved_at": _local(c.resolved_at, rt),
                "closed_at": _local(c.closed_at, rt),
                "solved": "" if c.solved is None else ("yes" if c.solved else "no"),
                "rating": c.rating,
                "description": c.description,
            }
        )
    return rows


def _local(moment: datetime | None, rt: Runtime) -> datetime | None:
    return moment.astimezone(rt.tz) if moment else None
