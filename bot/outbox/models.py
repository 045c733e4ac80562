"""The outbox's table: one row per message the bot sends on its own initiative."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """A message the bot sends on its own initiative; committed with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    method: str = Field(default="sendMessage", max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    dedupe_key: str | None = Field(
        default=None, sa_column=Column(String(120), unique=True, nullable=True)
    )
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    last_error: str | None = None
    # The id Telegram gave the message this row sent, so that a later row can edit it.
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # For an edit (editMessageText, editMessageReplyMarkup): the row whose message it edits.
    # That message's id is only known once the row is sent, so it is looked up at sending.
    edit_of: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
