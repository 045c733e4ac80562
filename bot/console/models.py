"""Tables of the staff console: login links, sessions, follow-up actions and their opt-outs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, Index, String, Text
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow


class ConsoleLoginLink(SQLModel, table=True):
    """A one-time sign-in link given in the chat; only the SHA-256 of its token is kept."""

    __tablename__ = "console_login_links"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    staff_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    expires_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds the token, the database its SHA-256."""

    __tablename__ = "console_sessions"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    staff_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    expires_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))


class FollowUpAction(SQLModel, table=True):
    """"Anda berkata, kami lakukan": what the office did about the survey's findings."""

    __tablename__ = "ikm_followups"
    __table_args__ = (Index("ix_ikm_followups_taken", "taken_on"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str | None = Field(default=None, max_length=80)
    service_id: str | None = Field(default=None, max_length=80)
    element: str = Field(max_length=4)  # U1..U16
    text: str = Field(sa_column=Column(Text, nullable=False))
    taken_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class FollowUpOptOut(SQLModel, table=True):
    """A citizen who asked not to be told about follow-up actions any more."""

    __tablename__ = "ikm_followup_optouts"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class KnowledgeEdit(SQLModel, table=True):
    """One knowledge-base file saved from the console: the text before and after, and who."""

    __tablename__ = "knowledge_edits"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(max_length=200)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str = Field(sa_column=Column(Text, nullable=False))
    edited_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False, index=True))
