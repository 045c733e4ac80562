"""Core tables shared by every feature: users, conversation state, staff and the audit trail;
and the column type every table stores its times in (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class AwareDateTime(TypeDecorator):
    """Stores UTC and always gives back an aware UTC datetime (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def UtcDateTime(*args: Any, **kw: Any) -> Column:  # noqa: N802 - reads like a type in models
    return Column(AwareDateTime(), *args, **kw)


class User(SQLModel, table=True):
    __tablename__ = "users"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    language: str = Field(default="id", max_length=8)
    language_chosen: bool = False
    first_seen: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    unreachable_since: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))


class ConversationState(SQLModel, table=True):
    """Where a user is in a multi-step flow; kept here so any process can continue it."""

    __tablename__ = "conversation_states"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: str = Field(max_length=40)
    step: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class Staff(SQLModel, table=True):
    """Officers, supervisors and admins. A role only ever comes from this table (or ADMIN_IDS)."""

    __tablename__ = "staff"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=16)  # officer | supervisor | admin
    unit: str | None = Field(default=None, max_length=80)
    # Their Telegram name, as colleagues see it on tickets (bot/people/staff_names.py).
    name: str | None = Field(default=None, max_length=120)
    added_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    added_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class AuditEntry(SQLModel, table=True):
    """Who did what, when: every officer action."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The back-office API token a change was made with (bot/api_tokens), by its name.
    api_token: str | None = Field(default=None, max_length=40)
    action: str = Field(max_length=60)
    subject: str | None = Field(default=None, max_length=120)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False, index=True))
