"""Tables of the complaints feature: tickets, their evidence and their message thread."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow

# Telegram user ids are positive: 0 marks a complaint whose complainant has been forgotten.
ERASED_COMPLAINANT = 0


class Complaint(SQLModel, table=True):
    """One complaint (pengaduan) and where it stands; the deadlines are fixed at filing."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_resolve_due", "status", "resolve_due"),
        Index("ix_complaints_complainant_received", "complainant_id", "received_at"),
        Index("ix_complaints_received_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    # Kept for every privacy choice so replies reach the complainant; never shown to officers
    # (the name is not even stored when the complaint is anonymous).
    complainant_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    complainant_name: str | None = Field(default=None, max_length=120)
    category: str = Field(max_length=40)
    service_id: str | None = Field(default=None, max_length=80)
    description: str = Field(sa_column=Column(Text, nullable=False))
    occurred_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = Field(default=None, max_length=200)  # where, in the citizen's words
    privacy: str = Field(max_length=16)  # named | anonymous | confidential
    priority: int = 3  # 1 highest .. 3 normal
    status: str = Field(default="received", max_length=16)
    unit: str | None = Field(default=None, max_length=80)
    assignee_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reject_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    duplicate_of_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("complaints.id"), nullable=True)
    )
    reopen_count: int = 0
    received_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    verify_due: datetime = Field(sa_column=UtcDateTime(nullable=False))
    response_due: datetime = Field(sa_column=UtcDateTime(nullable=False))
    resolve_due: datetime = Field(sa_column=UtcDateTime(nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    assigned_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    first_response_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    close_due: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    solved: bool | None = None
    rating: int | None = None
    feedback_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    # The outbox row of the post in the officers' group, edited as the ticket moves
    # (bot/complaints/post.py); the message's id is on that row once it is sent.
    group_post_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class ComplaintEvidence(SQLModel, table=True):
    """A photo or document by its Telegram file id: forwarded by id, never downloaded."""

    __tablename__ = "complaint_evidence"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaints.id"), nullable=False, index=True)
    )
    kind: str = Field(max_length=16)  # photo | document
    file_id: str = Field(max_length=255)
    added_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class ComplaintMessage(SQLModel, table=True):
    """The thread of a ticket: officers' replies and the complainant's additions."""

    __tablename__ = "complaint_messages"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaints.id"), nullable=False, index=True)
    )
    author_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    author_kind: str = Field(max_length=16)  # officer | complainant
    body: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
