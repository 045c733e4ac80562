"""Putting messages into the durable outbox; the sender drains it under Telegram's limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.models import OutboxMessage, utcnow


def enqueue(
    session: Session,
    *,
    chat_id: int,
    text: str | None = None,
    method: str = "sendMessage",
    reply_markup: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    **params: Any,
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction.

    ``text`` is HTML (already escaped by the caller). ``reply_markup`` is the Bot API's JSON shape
    (e.g. ``{"inline_keyboard": [[{"text": ..., "callback_data": ...}]]}``). A ``dedupe_key`` makes
    the call idempotent: a second call with the same key returns the row already queued.
    """
    if dedupe_key is not None:
        existing = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        if existing is not None:
            return existing
    payload: dict[str, Any] = dict(params)
    if text is not None:
        payload["text"] = text
        payload.setdefault("parse_mode", "HTML")
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    row = OutboxMessage(
        chat_id=chat_id,
        method=method,
        payload=payload,
        not_before=not_before or utcnow(),
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return row
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process queued the same key between our check and insert.
        return session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        ).one()
    return row
