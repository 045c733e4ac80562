"""Copies of a person's data in the core's tables that do not point at them by id: messages the
bot sent to staff about them (the outbox's rows to the officers' group), and audit lines that
name them. Erasure rewrites them without the person (bot/privacy/identity.py); the retention job
deletes sent messages once their period is over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from bot.core.models import AuditEntry, Staff
from bot.outbox.models import OutboxMessage
from bot.privacy.identity import Identity, redact_json

# Rows the sender is done with; pending and claimed rows still have to go out.
_SETTLED = ("sent", "failed", "dropped")


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def mentioning(column: Any, identity: Identity) -> ColumnElement[bool]:
    """SQL: the column, read as text, contains one of the identity's search terms. A coarse
    first cut; ``Identity.redact`` decides in Python."""
    as_text = cast(column, Text)
    return or_(*(as_text.ilike(_like(term), escape="\\") for term in identity.search_terms()))


def scrub_outbox(session: Session, identity: Identity) -> None:
    """Messages to others (the officers' group, a supervisor) that mention the person: their
    text, caption and buttons rewritten without them, sent or not. (Messages to the person
    themselves are deleted by the eraser.)"""
    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.chat_id != identity.telegram_id,
            mentioning(OutboxMessage.payload, identity),
        )
    ).all()
    for row in rows:
        payload = redact_json(identity, row.payload)
        if payload != row.payload:
            row.payload = payload  # type: ignore[assignment]
            session.add(row)


def scrub_audit(session: Session, identity: Identity) -> None:
    """Audit lines whose subject or detail names the person (an officer's search for their
    name, ...): kept as events, without the person. A staff member's own record stays whole:
    the office must account for what its staff did."""
    if session.get(Staff, identity.telegram_id) is not None:
        return
    rows = session.exec(
        select(AuditEntry).where(
            or_(
                mentioning(AuditEntry.subject, identity),
                mentioning(AuditEntry.detail, identity),
            )
        )
    ).all()
    for row in rows:
        subject = identity.redact(row.subject) if row.subject else row.subject
        detail = redact_json(identity, row.detail)
        if subject != row.subject or detail != row.detail:
            row.subject, row.detail = subject, detail  # type: ignore[assignment]
            session.add(row)


def prune_sent_messages(session: Session, cutoff: datetime) -> int:
    """The retention step of the outbox: rows sent (or given up on) before ``cutoff`` are
    deleted; they are copies of messages the chat already holds."""
    result = session.exec(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(_SETTLED), OutboxMessage.created_at < cutoff
        )
    )
    return result.rowcount or 0
