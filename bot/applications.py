"""Applications handed in at the counter: tracking numbers, status moves, followers, lockout."""

from __future__ import annotations

import csv
import hmac
import io
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, func
from sqlmodel import Field, Session, SQLModel, select

from bot.i18n import N_, Translator
from bot.models import User, UtcDateTime, utcnow
from bot.names import clean_name
from bot.outbox import enqueue
from bot.roles import audit
from bot.runtime import Runtime
from bot.text import escape

log = logging.getLogger(__name__)

# --- tracking numbers ---------------------------------------------------------------------------

# Crockford's base32: no I, L, O or U, so nothing on a printed receipt reads two ways.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# What people type for the letters that are not in the alphabet.
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
TRACKING_BODY = 7  # 32**7, about 34 billion numbers, then one check character


def _check_char(body: str) -> str:
    """Luhn mod 32: catches every single wrong character and most swapped neighbours."""
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_tracking_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(TRACKING_BODY))
    return body + _check_char(body)


def normalize_tracking_number(text: str) -> str | None:
    """The canonical form of what someone typed (any case, spaces, dashes, O for 0), or None
    when it cannot be a tracking number (wrong length, bad character, check fails)."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.").translate(_LOOKALIKES)
    if len(cleaned) != TRACKING_BODY + 1 or any(ch not in _VALUE for ch in cleaned):
        return None
    if _check_char(cleaned[:-1]) != cleaned[-1]:
        return None
    return cleaned


def format_tracking_number(tracking_number: str) -> str:
    """As printed and shown: two groups of four, K7QM-3XPA."""
    return f"{tracking_number[:4]}-{tracking_number[4:]}"


def new_verification_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# --- statuses -----------------------------------------------------------------------------------

RECEIVED = "received"
IN_VERIFICATION = "in_verification"
NEEDS_CORRECTION = "needs_correction"
IN_PROCESS = "in_process"
READY_FOR_PICKUP = "ready_for_pickup"
COMPLETED = "completed"
REJECTED = "rejected"

STATUSES = (
    RECEIVED,
    IN_VERIFICATION,
    NEEDS_CORRECTION,
    IN_PROCESS,
    READY_FOR_PICKUP,
    COMPLETED,
    REJECTED,
)
FINAL_STATUSES = frozenset({COMPLETED, REJECTED})
# The normal road; any move further along it is allowed (steps may be skipped).
MAIN_ROAD = (RECEIVED, IN_VERIFICATION, IN_PROCESS, READY_FOR_PICKUP, COMPLETED)
# The documented corrections, on top of forward moves along the main road.
CORRECTIONS: dict[str, frozenset[str]] = {
    # Something is missing: asked of the applicant at any point before the result is ready.
    RECEIVED: frozenset({NEEDS_CORRECTION, REJECTED}),
    IN_VERIFICATION: frozenset({NEEDS_CORRECTION, REJECTED}),
    IN_PROCESS: frozenset({NEEDS_CORRECTION, REJECTED}),
    # The applicant brought what was missing: checked again (or processing resumes).
    NEEDS_CORRECTION: frozenset({IN_VERIFICATION, IN_PROCESS, REJECTED}),
    # Marked ready too early, or the result turned out faulty: back to processing.
    READY_FOR_PICKUP: frozenset({IN_PROCESS}),
}
NOTE_REQUIRED = frozenset({NEEDS_CORRECTION, REJECTED})
# Steps a service may not omit: every application is received and ends one way or the other.
FIXED_STEPS = frozenset({RECEIVED, COMPLETED, REJECTED})

STATUS_LABELS = {
    RECEIVED: N_("Received"),
    IN_VERIFICATION: N_("In verification"),
    NEEDS_CORRECTION: N_("Needs correction"),
    IN_PROCESS: N_("In process"),
    READY_FOR_PICKUP: N_("Ready for pickup"),
    COMPLETED: N_("Completed"),
    REJECTED: N_("Rejected"),
}


def allowed_next(current: str) -> list[str]:
    """Every status an application in ``current`` may move to, in the order of STATUSES."""
    targets: set[str] = set(CORRECTIONS.get(current, ()))
    if current in MAIN_ROAD:
        targets.update(MAIN_ROAD[MAIN_ROAD.index(current) + 1 :])
    return [s for s in STATUSES if s in targets]


@dataclass(frozen=True)
class ServiceSteps:
    """How one service names its steps: renamed ones, and the ones it does not use.

    From the knowledge base's optional ``statuses`` mapping, e.g.
    ``{in_verification: false, ready_for_pickup: {id: "Siap dikirim", en: "Ready to post"}}``:
    false (or "omit") leaves a step out, a text renames it.
    """

    names: dict[str, dict[str, str]] = field(default_factory=dict)
    omitted: frozenset[str] = frozenset()

    @classmethod
    def of(cls, service: Any) -> ServiceSteps:
        mapping = getattr(service, "statuses", None) or {}
        names: dict[str, dict[str, str]] = {}
        omitted: set[str] = set()
        for status, value in mapping.items():
            if status not in STATUSES:
                raise ValueError(
                    f"service {getattr(service, 'id', '?')}: unknown status {status!r} in "
                    f"statuses; use one of {', '.join(STATUSES)}"
                )
            if value is False or value is None or value == "omit":
                if status in FIXED_STEPS:
                    raise ValueError(
                        f"service {getattr(service, 'id', '?')}: the step {status!r} "
                        "cannot be omitted"
                    )
                omitted.add(status)
            elif isinstance(value, str):
                names[status] = {"id": value}
            elif isinstance(value, dict) and isinstance(value.get("id"), str):
                names[status] = {k: str(v) for k, v in value.items() if k in ("id", "en")}
            else:
                raise ValueError(
                    f"service {getattr(service, 'id', '?')}: statuses.{status} must be false, "
                    "a name, or {id: ..., en: ...}"
                )
        return cls(names=names, omitted=frozenset(omitted))

    def label(self, status: str, tr: Translator) -> str:
        own = self.names.get(status)
        if own:
            return own.get(tr.locale) or own["id"]
        return tr.gettext(STATUS_LABELS[status])

    def next_steps(self, current: str) -> list[str]:
        return [s for s in allowed_next(current) if s not in self.omitted]


def status_mapping_problems(kb: Any) -> list[Any]:
    """Every service whose ``statuses`` mapping is wrong, as knowledge-base problems, so the bot
    refuses to start with a clear line instead of failing at the first status change."""
    from bot.knowledge import Problem

    problems = []
    for service in kb.services.values():
        try:
            ServiceSteps.of(service)
        except ValueError as err:
            problems.append(Problem(str(kb.directory), 1, f"{service.id}.statuses", str(err)))
    return problems


# --- errors with a translatable reason -------------------------------------------------------


class ApplicationError(Exception):
    """A refused request; ``msgid`` is English and translated where it is shown."""

    code = "refused"

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**{k: _plain(v) for k, v in params.items()}))

    def message(self, tr: Translator) -> str:
        """The reason in the reader's language, HTML-escaped; status ids become their labels."""
        return tr.gettext(self.msgid).format(
            **{k: escape(_shown(v, tr)) for k, v in self.params.items()}
        )


def _plain(value: Any) -> str:
    """A parameter for machine readers (the HTTP API): status ids stay ids."""
    return ", ".join(value) if isinstance(value, list | tuple) else str(value)


def _shown(value: Any, tr: Translator) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v, tr) for v in value) or "-"
    if isinstance(value, str) and value in STATUS_LABELS:
        return tr.gettext(STATUS_LABELS[value]).lower()
    return str(value)


class IllegalMove(ApplicationError):
    code = "illegal_move"


class NotFound(ApplicationError):
    code = "not_found"


class InvalidInput(ApplicationError):
    code = "invalid"


class LookupRefused(ApplicationError):
    """Wrong tracking number or code: deliberately the same answer for both."""

    code = "lookup_refused"


class LookupLocked(ApplicationError):
    code = "locked"

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            N_("Too many wrong attempts. Please try again after {minutes} minutes."),
            minutes=max(1, int((until - utcnow()).total_seconds() // 60) + 1),
        )


# --- tables -------------------------------------------------------------------------------------


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_open_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    service_id: str = Field(max_length=80)
    applicant_name: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    phone: str | None = Field(default=None, max_length=40)
    verification_code: str = Field(max_length=12)
    status: str = Field(default=RECEIVED, max_length=24)
    received_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    due_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    registered_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))

    @property
    def display_number(self) -> str:
        return format_tracking_number(self.tracking_number)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Past its due date and not finished (or finished after it)."""
        if self.closed_at is not None:
            return self.closed_at > self.due_at
        return (now or utcnow()) > self.due_at


class ApplicationEvent(SQLModel, table=True):
    """One entry of an application's history: every status it has had, with who and why."""

    __tablename__ = "application_events"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(
        sa_column=Column(Integer, ForeignKey("applications.id"), nullable=False, index=True)
    )
    status: str = Field(max_length=24)
    note: str | None = None
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source: str = Field(default="telegram", max_length=16)  # telegram | api | csv
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class ApplicationFollower(SQLModel, table=True):
    """A Telegram user who proved they hold the receipt and gets every status change."""

    __tablename__ = "application_followers"

    application_id: int = Field(
        sa_column=Column(Integer, ForeignKey("applications.id"), primary_key=True)
    )
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    since: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class LookupFailure(SQLModel, table=True):
    """A wrong tracking number or code, for the lockout."""

    __tablename__ = "application_lookup_failures"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


# --- the final-status hook for other features (the satisfaction survey) ----------------------

# Called inside the transaction of the change, right after an application reaches "completed".
# A hook may add rows (e.g. enqueue a survey invitation); raising aborts the whole change.
FINAL_STATUS_HOOKS: list[Callable[[Session, Application], None]] = []


# --- registering and finding --------------------------------------------------------------------


def _service(rt: Runtime, service_id: str) -> Any:
    service = rt.knowledge.services.get(service_id) if rt.knowledge is not None else None
    if service is None:
        raise InvalidInput(N_("Unknown service: {service}."), service=service_id)
    return service


def register_application(
    session: Session,
    rt: Runtime,
    *,
    service_id: str,
    applicant_name: str,
    phone: str | None = None,
    actor_id: int | None,
    source: str = "telegram",
    now: datetime | None = None,
) -> Application:
    """A new application, received now, due by the service's standard duration."""
    now = now or utcnow()
    service = _service(rt, service_id)
    name = clean_name(applicant_name)
    if not 2 <= len(name) <= 200:
        raise InvalidInput(N_("The applicant's name must be 2 to 200 characters."))
    phone = clean_phone(phone)
    due = rt.calendar.due_at(now, service.duration.amount, service.duration.unit)
    # A clash with an existing number is a one-in-billions event: draw again. (No savepoint
    # and retry on the unique constraint: with pysqlite a savepoint opened first in a session
    # commits on release, which would split this unit of work.)
    tracking_number = new_tracking_number()
    while session.exec(
        select(Application.id).where(Application.tracking_number == tracking_number)
    ).first() is not None:
        tracking_number = new_tracking_number()
    application = Application(
        tracking_number=tracking_number,
        service_id=service_id,
        applicant_name=name,
        phone=phone,
        verification_code=new_verification_code(),
        status=RECEIVED,
        received_at=now,
        due_at=due,
        updated_at=now,
        registered_by=actor_id,
    )
    session.add(application)
    session.flush()
    session.add(
        ApplicationEvent(
            application_id=application.id, status=RECEIVED, actor_id=actor_id, source=source, at=now
        )
    )
    audit(
        session,
        actor_id=actor_id,
        action="application.register",
        subject=application.tracking_number,
        service=service_id,
        source=source,
    )
    return application


def clean_phone(phone: str | None) -> str | None:
    """Digits with an optional leading +; None when left out."""
    if phone is None or not phone.strip() or phone.strip() == "-":
        return None
    compact = "".join(ch for ch in phone.strip() if ch not in " -().")
    digits = compact.removeprefix("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise InvalidInput(N_("The phone number should be 6 to 15 digits, e.g. 081234567890."))
    return compact


def get_application(session: Session, tracking_text: str, *, lock: bool = False) -> Application:
    tracking_number = normalize_tracking_number(tracking_text)
    if tracking_number is None:
        raise NotFound(
            N_("{number} is not a valid tracking number."), number=tracking_text.strip()[:30]
        )
    query = select(Application).where(Application.tracking_number == tracking_number)
    if lock:
        query = query.with_for_update()
    application = session.exec(query).first()
    if application is None:
        raise NotFound(
            N_("No application has the tracking number {number}."),
            number=format_tracking_number(tracking_number),
        )
    return application


def find_applications(
    session: Session, query: str, *, limit: int = 10, actor_id: int | None = None
) -> list[Application]:
    """By tracking number, or else by part of the applicant's name (newest first).

    Searching applicants' personal data is an officer action: audited when ``actor_id`` is given.
    """
    if actor_id is not None:
        audit(session, actor_id=actor_id, action="application.find", subject=query.strip()[:120])
    tracking_number = normalize_tracking_number(query)
    if tracking_number is not None:
        found = session.exec(
            select(Application).where(Application.tracking_number == tracking_number)
        ).all()
        if found:
            return list(found)
    words = query.strip()
    if len(words) < 2:
        return []
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        session.exec(
            select(Application)
            .where(func.lower(Application.applicant_name).like(pattern, escape="\\"))
            .order_by(Application.received_at.desc())
            .limit(limit)
        ).all()
    )


def overdue_applications(
    session: Session, *, now: datetime | None = None, limit: int = 50
) -> list[Application]:
    """Unfinished applications past their due date, the longest overdue first."""
    now = now or utcnow()
    return list(
        session.exec(
            select(Application)
            .where(Application.status.not_in(FINAL_STATUSES), Application.due_at < now)
            .order_by(Application.due_at, Application.id)
            .limit(limit)
        ).all()
    )


def history(session: Session, application: Application) -> list[ApplicationEvent]:
    return list(
        session.exec(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.at, ApplicationEvent.id)
        ).all()
    )


# --- moving an application along ---------------------------------------------------------------


def change_status(
    session: Session,
    rt: Runtime,
    *,
    tracking_number: str,
    status: str,
    note: str | None = None,
    actor_id: int | None,
    source: str = "telegram",
    now: datetime | None = None,
) -> Application:
    """Move an application to ``status``: history, audit and one message per follower, all in
    the caller's transaction. Raises IllegalMove (with the reason) when the move is not allowed.
    """
    now = now or utcnow()
    note = (note or "").strip() or None
    if note is not None and len(note) > 1000:
        raise InvalidInput(N_("The note is too long (at most 1,000 characters)."))
    if status not in STATUSES:
        raise InvalidInput(
            N_("Unknown status {status}. Use one of: {statuses}."),
            status=status,
            statuses=", ".join(STATUSES),
        )
    application = get_application(session, tracking_number, lock=True)
    steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
    current = application.status
    if current in FINAL_STATUSES:
        raise IllegalMove(
            N_("Application {number} is already {current}; it cannot change any more."),
            number=application.display_number,
            current=current,
        )
    if status == current:
        raise IllegalMove(
            N_("Application {number} is already {current}."),
            number=application.display_number,
            current=current,
        )
    if status in steps.omitted:
        raise IllegalMove(
            N_("This service does not use the step {status}."), status=status
        )
    if status not in steps.next_steps(current):
        raise IllegalMove(
            N_("An application cannot go from {current} to {new}. Allowed next: {allowed}."),
            current=current,
            new=status,
            allowed=steps.next_steps(current),
        )
    if status in NOTE_REQUIRED and note is None:
        raise IllegalMove(
            N_("A note is required for {status}: tell the applicant what is missing or why."),
            status=status,
        )
    application.status = status
    application.updated_at = now
    if status in FINAL_STATUSES:
        application.closed_at = now
    session.add(application)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            status=status,
            note=note,
            actor_id=actor_id,
            source=source,
            at=now,
        )
    )
    audit(
        session,
        actor_id=actor_id,
        action="application.status",
        subject=application.tracking_number,
        before=current,
        after=status,
        note=note,
        source=source,
    )
    _notify_followers(session, rt, application, note=note, steps=steps)
    if status == COMPLETED:
        for hook in FINAL_STATUS_HOOKS:
            hook(session, application)
    return application


def _notify_followers(
    session: Session, rt: Runtime, application: Application, *, note: str | None, steps: Any
) -> None:
    rows = session.exec(
        select(ApplicationFollower.user_id, User.language)
        .join(User, User.telegram_id == ApplicationFollower.user_id, isouter=True)
        .where(ApplicationFollower.application_id == application.id)
    ).all()
    service = rt.knowledge.services.get(application.service_id)
    for user_id, language in rows:
        tr = Translator(language or rt.settings.default_locale)
        enqueue(
            session,
            chat_id=user_id,
            text=render_change_notice(application, service, steps, tr, rt, note=note),
        )


def render_change_notice(
    application: Application,
    service: Any,
    steps: ServiceSteps,
    tr: Translator,
    rt: Runtime,
    *,
    note: str | None,
) -> str:
    """The message a follower gets, in their language; the officer's note is escaped."""
    _ = tr.gettext
    lines = [
        _("🔔 <b>Application {number}</b> has a new status.").format(
            number=application.display_number
        ),
        escape(service.name(tr.locale)) if service is not None else escape(application.service_id),
        _("Status: <b>{status}</b>").format(status=escape(steps.label(application.status, tr))),
    ]
    if note:
        lines.append(_("Note from the officer: {note}").format(note=escape(note)))
    if application.status == READY_FOR_PICKUP:
        lines.append(
            _("Please bring your receipt (tracking number) and your original identity card.")
        )
    elif application.status not in FINAL_STATUSES:
        lines.append(
            _("Due date: {date}").format(date=tr.date(application.due_at, rt.settings.tz))
        )
    return "\n".join(lines)


# --- citizens looking up and following ---------------------------------------------------------

LOCKOUT_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)


def locked_until(session: Session, *, user_id: int, now: datetime | None = None) -> datetime | None:
    """When this user's lockout ends, if they are locked out now.

    A lockout starts at the fifth wrong attempt within 15 minutes and lasts 15 minutes; attempts
    made while locked are not recorded, so waiting it out is enough.
    """
    now = now or utcnow()
    times = list(
        session.exec(
            select(LookupFailure.at)
            .where(
                LookupFailure.user_id == user_id,
                LookupFailure.at > now - LOCKOUT_WINDOW - LOCKOUT_DURATION,
            )
            .order_by(LookupFailure.at)
        ).all()
    )
    for i in range(len(times) - LOCKOUT_ATTEMPTS + 1):
        first, fifth = times[i], times[i + LOCKOUT_ATTEMPTS - 1]
        if fifth - first <= LOCKOUT_WINDOW and now < fifth + LOCKOUT_DURATION:
            return fifth + LOCKOUT_DURATION
    return None


def lookup(
    session: Session,
    *,
    user_id: int,
    tracking_text: str,
    code: str,
    now: datetime | None = None,
) -> Application:
    """The application a citizen holds the receipt for.

    A wrong code and an unknown number get the same answer (LookupRefused) and both count
    toward the lockout, so nobody can learn whether a number exists. A number that fails its
    check character is refused as mistyped without counting: that reveals nothing. A wrong
    attempt commits the session (call this first in a unit of work).
    """
    now = now or utcnow()
    until = locked_until(session, user_id=user_id, now=now)
    if until is not None:
        raise LookupLocked(until)
    tracking_number = normalize_tracking_number(tracking_text)
    if tracking_number is None:
        raise InvalidInput(
            N_("That does not look like a tracking number. It has 8 characters, e.g. K7QM-3XPA.")
        )
    application = session.exec(
        select(Application).where(Application.tracking_number == tracking_number)
    ).first()
    expected = application.verification_code if application is not None else "-"
    if application is None or not hmac.compare_digest(expected.encode(), code.strip().encode()):
        session.add(LookupFailure(user_id=user_id, at=now))
        # Committed here: the refusal below makes the caller's block roll back, and the attempt
        # must count all the same.
        session.commit()
        until = locked_until(session, user_id=user_id, now=now)
        if until is not None:
            raise LookupLocked(until)
        raise LookupRefused(
            N_("The tracking number or the verification code is not correct. Check your receipt.")
        )
    return application


def follow(
    session: Session, *, application: Application, user_id: int, now: datetime | None = None
) -> bool:
    """Start sending this user the application's changes; False when they already follow it."""
    if session.get(ApplicationFollower, (application.id, user_id)) is not None:
        return False
    session.add(
        ApplicationFollower(application_id=application.id, user_id=user_id, since=now or utcnow())
    )
    return True


def unfollow(session: Session, *, application_id: int, user_id: int) -> bool:
    row = session.get(ApplicationFollower, (application_id, user_id))
    if row is None:
        return False
    session.delete(row)
    return True


def is_follower(session: Session, *, application_id: int, user_id: int) -> bool:
    return session.get(ApplicationFollower, (application_id, user_id)) is not None


def follower_count(session: Session, application_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ApplicationFollower)
        .where(ApplicationFollower.application_id == application_id)
    ).one()


def followed_by(session: Session, user_id: int) -> list[Application]:
    return list(
        session.exec(
            select(Application)
            .join(ApplicationFollower, ApplicationFollower.application_id == Application.id)
            .where(ApplicationFollower.user_id == user_id)
            .order_by(Application.received_at.desc())
        ).all()
    )



# --- bulk updates from a CSV file (tracking_number,status,note) -------------------------------

MAX_CSV_ROWS = 10_000
BULK_CHUNK = 200


class CsvProblem(Exception):
    """The file as a whole cannot be read; args[0] is the (translatable) reason."""


def read_status_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-empty row; the header names the columns."""
    if b"\x00" in data:
        raise CsvProblem(N_("This file is not a CSV text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvProblem(
            N_("This file is not UTF-8 text. Save it as 'CSV UTF-8' and send it again.")
        ) from None
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Indonesian save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if "tracking_number" not in header or "status" not in header:
            raise CsvProblem(N_("The first line must be the header: tracking_number,status,note"))
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
            rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
            if len(rows) > MAX_CSV_ROWS:
                raise CsvProblem(N_("Too many rows: at most 10,000 per file."))
    except csv.Error:
        raise CsvProblem(N_("This file is not a valid CSV file.")) from None
    return rows


@dataclass
class BulkReport:
    applied: int = 0
    # (line number, the reason; None when the row failed for a reason of ours, not the data)
    refused: list[tuple[int, ApplicationError | None]] = field(default_factory=list)


def bulk_update(
    rt: Runtime, data: bytes, *, actor_id: int | None, now: datetime | None = None
) -> BulkReport:
    """Apply every row of a status CSV: a bad row is refused alone and the others stand.

    Each row runs in its own savepoint, committed in chunks: one commit per row would make a
    10,000-row file crawl on SQLite, one commit for the file would hold the write lock too long.
    Raises CsvProblem when the file itself is unreadable.
    """
    report = BulkReport()
    rows = read_status_csv(data)
    for start in range(0, len(rows), BULK_CHUNK):
        with rt.db.session() as session:
            for line, row in rows[start : start + BULK_CHUNK]:
                try:
                    with session.begin_nested():
                        change_status(
                            session,
                            rt,
                            tracking_number=row.get("tracking_number", ""),
                            status=row.get("status", "").lower().replace(" ", "_"),
                            note=row.get("note") or None,
                            actor_id=actor_id,
                            source="csv",
                            now=now,
                        )
                    report.applied += 1
                except ApplicationError as err:
                    report.refused.append((line, err))
                except Exception:  # noqa: BLE001 - reported as refused; the rest goes on
                    log.exception("CSV row %s could not be saved", line)
                    report.refused.append((line, None))
    return report
