"""The application tables: applications, their history, their followers, failed lookups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from bot.applications.statuses import RECEIVED
from bot.applications.tracking import format_tracking_number
from bot.core.models import UtcDateTime, utcnow

# --- tables -------------------------------------------------------------------------------------


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_open_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    service_id: str = Field(max_length=80)
    applicant_name: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    # One form, +62... (bot/applications/phones.py): a citizen who shares this number on
    # Telegram is offered to follow the application.
    phone: str | None = Field(default=None, max_length=40, index=True)
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


class ApplicationMessage(SQLModel, table=True):
    """What an applicant sends the office about an application (a reply to "needs
    correction", a photo or file of the missing document) and the officer's answers."""

    __tablename__ = "application_messages"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(
        sa_column=Column(Integer, ForeignKey("applications.id"), nullable=False, index=True)
    )
    direction: str = Field(max_length=12)  # to_office | to_citizen
    citizen_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    # The officer who answered, or to whom the applicant's message went (None: the group).
    officer_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    text: str | None = Field(default=None, max_length=2000)
    attachment: str | None = Field(default=None, max_length=12)  # photo | document
    file_id: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
