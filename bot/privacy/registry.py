"""Personal data rights (UU 27/2022): every feature registers how to export and erase its data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from bot.core.exports import Column, to_csv
from bot.core.i18n import N_
from bot.core.models import AuditEntry, ConversationState, Staff, User, utcnow
from bot.outbox.models import OutboxMessage
from bot.privacy.copies import prune_sent_messages, scrub_audit, scrub_outbox
from bot.privacy.identity import Identity

# export(session, telegram_id) -> JSON-ready dict of everything the feature holds on the person.
Exporter = Callable[[Session, int], dict[str, Any]]
# erase(session, telegram_id) -> msgid telling the person what was erased or kept, and why;
# None when there is nothing worth telling.
Eraser = Callable[[Session, int], str | None]
# anonymise_older(session, cutoff) -> rows anonymised; for the retention job.
RetentionFn = Callable[[Session, datetime], int]
# collect(session, identity): before anything is erased, add what identifies the person in the
# kind's rows (names given, numbers written, complaint tickets) to ``identity``.
Collector = Callable[[Session, Identity], None]
# scrub(session, identity): then rewrite the texts the kind keeps about the person (copies that
# stay after the erasure: the office's record, messages to staff) without them.
Scrubber = Callable[[Session, Identity], None]


@dataclass(frozen=True)
class PersonalDataKind:
    name: str
    export: Exporter
    erase: Eraser
    collect: Collector | None = None
    scrub: Scrubber | None = None


REGISTRY: dict[str, PersonalDataKind] = {}
RETENTION: dict[str, RetentionFn] = {}

# The retention kinds with their own setting (RETENTION_DAYS_<KIND>); "messages": copies of
# the messages the bot sent (the outbox's sent rows).
RETENTION_KINDS = ("applications", "complaints", "surveys", "queue", "messages")


def register_personal_data(
    name: str,
    export_fn: Exporter,
    erase_fn: Eraser,
    *,
    collect: Collector | None = None,
    scrub: Scrubber | None = None,
) -> None:
    """Called for each kind by its feature's ``register``, from bot/privacy/kinds.py.

    Registering twice under one name replaces the earlier entry in its place (every Application
    a test builds registers again).
    """
    REGISTRY[name] = PersonalDataKind(name, export_fn, erase_fn, collect, scrub)


def register_retention(kind: str, anonymise_older: RetentionFn) -> None:
    """A feature's retention step for ``kind`` (one of RETENTION_KINDS)."""
    if kind not in RETENTION_KINDS:
        raise ValueError(f"unknown retention kind {kind!r}")
    RETENTION[kind] = anonymise_older


def export_personal_data(
    session: Session, telegram_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the bot holds about one person, one key per registered kind."""
    document: dict[str, Any] = {
        "telegram_id": telegram_id,
        "exported_at": (now or utcnow()).isoformat(),
    }
    for kind in REGISTRY.values():
        document[kind.name] = kind.export(session, telegram_id)
    return document


def erase_personal_data(
    session: Session, telegram_id: int, *, names: Iterable[str | None] = ()
) -> list[str]:
    """Erase or anonymise the person's data in the caller's transaction (all or nothing).

    ``names``: the person's names as Telegram gives them (first, last, username), looked for
    with the names the kinds know. First every kind collects what identifies the person, then
    every kind scrubs the copies it keeps (bot/privacy/identity.py), then every kind erases.
    Returns the msgids saying what happened, in registration order. Kinds are
    erased in reverse order, so a feature's rows that refer to the user row (registered first,
    by this module) are gone before it.
    """
    kinds = list(REGISTRY.values())
    identity = Identity(telegram_id)
    for name in names:
        identity.add_name(name)
    for kind in kinds:
        if kind.collect is not None:
            kind.collect(session, identity)
    for kind in kinds:
        if kind.scrub is not None:
            kind.scrub(session, identity)
    messages = [kind.erase(session, telegram_id) for kind in reversed(kinds)]
    return [msgid for msgid in reversed(messages) if msgid]


def apply_retention(
    session: Session, days_by_kind: dict[str, int], *, now: datetime | None = None
) -> dict[str, int]:
    """Anonymise what is older than each kind's period (0 days = keep); rows per kind."""
    now = now or utcnow()
    done: dict[str, int] = {}
    for kind, days in days_by_kind.items():
        fn = RETENTION.get(kind)
        if fn is not None and days > 0:
            done[kind] = fn(session, now - timedelta(days=days))
    return done


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- the core tables ------------------------------------------------------------------------


def export_user(session: Session, telegram_id: int) -> dict[str, Any]:
    user = session.get(User, telegram_id)
    staff = session.get(Staff, telegram_id)
    return {
        "profile": None
        if user is None
        else {
            "language": user.language,
            "language_chosen": user.language_chosen,
            "first_seen": _iso(user.first_seen),
            "unreachable_since": _iso(user.unreachable_since),
        },
        "staff_role": None
        if staff is None
        else {
            "role": staff.role,
            "unit": staff.unit,
            "name": staff.name,  # as colleagues see it (bot/people/staff_names.py)
            "added_at": _iso(staff.added_at),
        },
    }


def erase_user(session: Session, telegram_id: int) -> str:
    user = session.get(User, telegram_id)
    if user is not None:
        session.delete(user)
    if session.get(Staff, telegram_id) is not None:
        return N_(
            "Your profile (language, first contact) was deleted. Your staff role is kept "
            "until an admin removes it, because the office decides who works for it."
        )
    return N_("Your profile (language, first contact) was deleted.")


def export_conversations(session: Session, telegram_id: int) -> dict[str, Any]:
    states = session.exec(
        select(ConversationState).where(
            or_(ConversationState.user_id == telegram_id, ConversationState.chat_id == telegram_id)
        )
    ).all()
    return {
        "items": [
            {"flow": s.flow, "step": s.step, "data": s.data, "updated_at": _iso(s.updated_at)}
            for s in states
        ]
    }


def erase_conversations(session: Session, telegram_id: int) -> str:
    session.exec(
        delete(ConversationState).where(
            or_(ConversationState.user_id == telegram_id, ConversationState.chat_id == telegram_id)
        )
    )
    return N_("Anything you were in the middle of typing was deleted.")


def export_outbox(session: Session, telegram_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.chat_id == telegram_id)
        .order_by(OutboxMessage.id)
    ).all()
    return {
        "items": [
            {
                "text": row.payload.get("text"),
                "status": row.status,
                "created_at": _iso(row.created_at),
                "sent_at": _iso(row.sent_at),
            }
            for row in rows
        ]
    }


def erase_outbox(session: Session, telegram_id: int) -> str:
    session.exec(delete(OutboxMessage).where(OutboxMessage.chat_id == telegram_id))
    return N_("Copies of messages we sent you, and messages not yet sent, were deleted.")


def export_audit(session: Session, telegram_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(AuditEntry).where(AuditEntry.actor_id == telegram_id).order_by(AuditEntry.id)
    ).all()
    return {
        "items": [
            {"action": r.action, "subject": r.subject, "detail": r.detail, "at": _iso(r.at)}
            for r in rows
        ]
    }


def erase_audit(session: Session, telegram_id: int) -> str | None:
    has_entries = session.exec(
        select(AuditEntry.id).where(AuditEntry.actor_id == telegram_id).limit(1)
    ).first()
    if has_entries is None:
        return None
    if session.get(Staff, telegram_id) is None:
        # A citizen's own steps (e.g. "complaint.filed"): kept as events, without the person,
        # or they would point back at what the other erasers just unlinked.
        session.exec(
            update(AuditEntry).where(AuditEntry.actor_id == telegram_id).values(actor_id=None)
        )
        return None
    return N_(
        "The record of actions you took as office staff is kept, because the office must be "
        "able to account for every action on a citizen's file."
    )


# Registration order is the order of the erasure report shown to the citizen.


# --- audit export ---------------------------------------------------------------------------

AUDIT_COLUMNS = (
    Column("id", "int"),
    Column("at", "datetime"),
    Column("actor_id", "int"),
    Column("api_token"),  # the back-office API token a change came with, by name
    Column("action"),
    Column("subject"),
    Column("detail"),
)


def audit_rows(session: Session, *, since: datetime | None = None) -> list[list[Any]]:
    """The audit log by AUDIT_COLUMNS (times in UTC), oldest first, for admins."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return [
        [
            row.id,
            row.at,
            row.actor_id,
            row.api_token or "",
            row.action,
            row.subject or "",
            json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
        ]
        for row in session.exec(query).all()
    ]


def audit_csv(session: Session, *, since: datetime | None = None) -> str:
    return to_csv(AUDIT_COLUMNS, audit_rows(session, since=since))


def register_core_kinds() -> None:
    """The kinds the core holds, first in every export: profile, conversations, messages, staff
    actions. Called by bot/privacy/kinds.py."""
    register_personal_data("profile", export_user, erase_user)
    register_personal_data("conversations", export_conversations, erase_conversations)
    register_personal_data("messages", export_outbox, erase_outbox, scrub=scrub_outbox)
    register_personal_data("staff_actions", export_audit, erase_audit, scrub=scrub_audit)
    register_retention("messages", prune_sent_messages)
