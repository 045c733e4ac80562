"""The survey tables: invitations and their responses, and the invitation states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow

# --- tables ----------------------------------------------------------------------------------

# Invitation states. "declined" also covers a citizen who blocked the bot.
SCHEDULED, SENT, REMINDED, ANSWERED, DECLINED, EXPIRED = (
    "scheduled",
    "sent",
    "reminded",
    "answered",
    "declined",
    "expired",
)
OPEN_STATES = (SCHEDULED, SENT, REMINDED)
ORIGIN_APPLICATION, ORIGIN_ON_DEMAND = "application", "on_demand"


class SurveyInvitation(SQLModel, table=True):
    """One survey offered for one transaction; ``next_at`` is when the job next looks at it."""

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_due", "status", "next_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # One per transaction, enforced here: "application:<id>" or an on-demand key.
    transaction_key: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    origin: str = Field(default=ORIGIN_APPLICATION, max_length=16)
    application_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    service_id: str = Field(max_length=80)
    unit: str | None = Field(default=None, max_length=80)
    status: str = Field(default=SCHEDULED, max_length=16)
    next_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    due_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    close_reason: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class SurveyResponse(SQLModel, table=True):
    """The answers to one invitation: a column per element code (U1 -> u1), so the index is a
    handful of SQL aggregates rather than rows loaded into Python."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_completed", "completed_at"),
        Index("ix_survey_responses_service", "service_id", "completed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("survey_invitations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,  # one response per invitation
        )
    )
    service_id: str = Field(max_length=80)
    unit: str | None = Field(default=None, max_length=80)
    u1: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u2: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u3: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u4: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u5: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u6: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u7: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u8: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u9: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u10: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u11: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u12: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u13: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u14: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u15: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u16: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    suggestion: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    age_group: str | None = Field(default=None, max_length=12)
    sex: str | None = Field(default=None, max_length=12)
    education: str | None = Field(default=None, max_length=12)
    occupation: str | None = Field(default=None, max_length=12)
    # After the elements: "suggestion", then "profile:<field>" for each, then "done".
    step: str = Field(default="questions", max_length=24)
    started_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))

    def answer(self, code: str) -> int | None:
        return getattr(self, code.lower())
