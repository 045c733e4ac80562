"""Filing a complaint: tickets, the checks on what the citizen types, the daily limit, and the
filing itself (posted to the officers' group through the outbox)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.complaints.access import InvalidInput, LimitReached, NotAllowed
from bot.complaints.anonymity import audit_actor
from bot.complaints.deadlines import local_days_bounds
from bot.complaints.models import (
    Complaint,
    ComplaintEvidence,
)
from bot.complaints.notify import alert_urgent
from bot.complaints.post import post_new
from bot.complaints.queries import supervisors_for, user_locale
from bot.complaints.vocabulary import (
    ANONYMOUS,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    DESCRIPTION_MIN_WORDS,
    EVIDENCE_KINDS,
    MAX_EVIDENCE,
    MESSAGE_MAX,
    PLACE_MAX,
    PRIVACY_CHOICES,
    RECEIVED,
    TICKET_ALPHABET,
    TICKET_LENGTH,
    TICKET_PREFIX,
    categories,
    deadlines,
)
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.core.runtime import Runtime
from bot.people.roles import audit
from bot.qa.matching import PARTIAL

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
    """The description as stored; raises InvalidInput 'too_short' (fewer than two words or ten
    characters: "dimintai uang" is enough) / 'too_long'."""
    cleaned = (text or "").strip()
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput("too_long", maximum=DESCRIPTION_MAX, length=len(cleaned))
    if len(cleaned) < DESCRIPTION_MIN or len(cleaned.split()) < DESCRIPTION_MIN_WORDS:
        raise InvalidInput(
            "too_short", minimum=DESCRIPTION_MIN, words=DESCRIPTION_MIN_WORDS, length=len(cleaned)
        )
    return cleaned


def clean_message(text: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("empty")
    if len(cleaned) > MESSAGE_MAX:
        raise InvalidInput("too_long", maximum=MESSAGE_MAX, length=len(cleaned))
    return cleaned


def check_location(latitude: float, longitude: float) -> tuple[float, float]:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("bad_location")
    return (round(latitude, 6), round(longitude, 6))


def clean_place(text: str) -> str:
    """Where it happened, in the citizen's words ("loket 3, lantai 2")."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidInput("empty")
    if len(cleaned) > PLACE_MAX:
        raise InvalidInput("too_long", maximum=PLACE_MAX, length=len(cleaned))
    return cleaned


def service_in_text(rt: Runtime, text: str) -> str | None:
    """The one service a complaint's description names clearly ("... untuk KTP"), so the
    filing need not ask for it; None when it names none, or several."""
    matcher = rt.matcher
    if matcher is None or not text:
        return None
    tokens, fuzzy = matcher.normalise(text)
    named = {hit.service_id for hit in matcher.service_hits(tokens, fuzzy) if hit.score >= PARTIAL}
    services = getattr(rt.knowledge, "services", None) or {}
    named &= set(services)
    return named.pop() if len(named) == 1 else None


# --- daily limit ------------------------------------------------------------------------------


def _local_day(rt: Runtime, now: datetime) -> tuple[datetime, datetime]:
    """The office day around ``now`` as a UTC half-open interval."""
    local_day = now.astimezone(rt.tz).date()
    return local_days_bounds(rt, local_day, local_day)


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
    place: str | None = None,
    now: datetime | None = None,
) -> Complaint:
    """File a complaint: checks, ticket number, deadlines (by the category's tier), and the
    messages to the officers' group (and to supervisors at once for urgent categories)."""
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
    place = clean_place(place) if place else None
    check_daily_limit(session, rt, complainant_id, now)

    cat = known[category]
    verify_due, response_due, resolve_due = deadlines(rt, cat, now)
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
        place=place,
        privacy=privacy,
        priority=cat.priority,
        status=RECEIVED,
        received_at=now,
        verify_due=verify_due,
        response_due=response_due,
        resolve_due=resolve_due,
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
    audit(session, **audit_actor(complaint, complainant_id), action="complaint.filed",
          subject=complaint.ticket)

    post_new(session, rt, complaint)
    if cat.urgent:
        for supervisor in supervisors_for(session, complaint):
            alert_urgent(
                session,
                rt,
                complaint,
                supervisor,
                user_locale(session, rt, supervisor),
                dedupe_key=f"cmp:{complaint.id}:urgent:{supervisor}",
            )
    return complaint
