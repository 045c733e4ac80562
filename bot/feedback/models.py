"""Tables of the unanswered-questions feature: the anonymous log, who asked, and the hand-offs
to an officer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow

ERASED_ASKER = 0  # Telegram user ids are positive: 0 is a citizen whose data was erased


class UnansweredQuestion(SQLModel, table=True):
    """One question the bot could not answer well, deduplicated by its normalised text.

    Holds no person: the text is masked (NIK, phone numbers, names) before it is stored, and
    who asked lives in ``question_asks``.
    """

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_last_at", "last_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))  # sha256 hex
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked, as first asked
    locale: str = Field(default="id", max_length=8)
    # The service the question was nearest to (the matcher's first suggestion, or the service
    # of the answer rated 👎); None: office-wide.
    service_id: str | None = Field(default=None, max_length=80)
    count: int = 0  # every time it was asked and not understood, or rated 👎
    rated_down: int = 0  # of those, the 👎 ratings
    first_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    last_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    # Handled by staff (an answer added to the knowledge base, in the console): off the lists
    # until it is asked, and again not answered well, after that moment.
    handled_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    handled_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    handled_as: str | None = Field(default=None, max_length=200)  # the file, e.g. entries/x.yaml


class QuestionAsk(SQLModel, table=True):
    """One question one citizen asked, kept for the buttons under its answer (👍/👎, ask an
    officer): the personal part. Unrated answered questions are deleted after a few days."""

    __tablename__ = "question_asks"
    __table_args__ = (Index("ix_question_asks_asked_at", "asked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(default="id", max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    service_id: str | None = Field(default=None, max_length=80)  # answered, or nearest
    topic: str | None = Field(default=None, max_length=40)
    understood: bool = True
    rating: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    question_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("unanswered_questions.id"), nullable=True, index=True),
    )
    asked_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    rated_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))


class OfficerQuestion(SQLModel, table=True):
    """A question handed to the officers' group ("Tanya petugas") and the officer's answer.

    Not a complaint: it has no ticket, no deadlines and is not counted in complaint figures.
    """

    __tablename__ = "officer_questions"
    __table_args__ = (Index("ix_officer_questions_status", "status", "asked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ask_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("question_asks.id"), nullable=True, unique=True),
    )
    question_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("unanswered_questions.id"), nullable=True, index=True),
    )
    # The citizen; 0 once their data is erased (the exchange stays as the office's material).
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    locale: str = Field(default="id", max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    service_id: str | None = Field(default=None, max_length=80)
    status: str = Field(default="open", max_length=16)  # open | answered
    officer_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    asked_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))

