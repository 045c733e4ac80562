"""Tables of the queue: seats per slot, bookings and tickets, officers' counters, notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow

# What a visit goes through. A booking waits as BOOKED until the citizen checks in on the day
# (WAITING); a walk-in starts WAITING. CALLED by an officer, SERVING once at the counter, then
# DONE; SKIPPED when they did not come (they may return once); CANCELLED by the citizen;
# CLOSED when a supervisor closed the slot and the citizen did not move.
BOOKED, WAITING, CALLED, SERVING, DONE = "booked", "waiting", "called", "serving", "done"
SKIPPED, CANCELLED, CLOSED = "skipped", "cancelled", "closed"
ACTIVE = (BOOKED, WAITING, CALLED, SERVING)
KIND_BOOKED, KIND_WALKIN = "booked", "walkin"


class QueueSlot(SQLModel, table=True):
    """Seats taken in one slot of one service: taking a seat is one conditional UPDATE of this
    row, so two instances can never both take the last seat."""

    __tablename__ = "queue_slots"

    service_id: str = Field(sa_column=Column(String(40), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    start: str = Field(sa_column=Column(String(5), primary_key=True))  # "08:30", office time
    taken_regular: int = 0
    taken_priority: int = 0
    closed: bool = False


class QueueBooking(SQLModel, table=True):
    """A booked visit or a walk-in's ticket."""

    __tablename__ = "queue_bookings"
    __table_args__ = (
        Index("ix_queue_bookings_day_status", "day", "status"),
        UniqueConstraint("day", "ticket", name="uq_queue_bookings_ticket"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(8), unique=True, nullable=False))
    # The citizen; None for a walk-in without Telegram.
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True,
                                                               index=True))
    language: str = Field(default="id", max_length=8)
    service_id: str = Field(max_length=40)
    kind: str = Field(default=KIND_BOOKED, max_length=8)
    day: date = Field(sa_column=Column(Date, nullable=False))
    start: str | None = Field(default=None, max_length=5)  # the slot; None for a walk-in
    slot_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    priority: bool = False
    priority_reason: str | None = Field(default=None, max_length=16)
    seat: str | None = Field(default=None, max_length=8)  # "regular" or "priority"
    status: str = Field(default=BOOKED, max_length=12)
    ticket: int | None = None  # the day's queue number, from check-in
    returned: bool = False  # came back once after being skipped
    counter: str | None = Field(default=None, max_length=8)  # where they were called
    called_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    checked_in_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    called_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    reminded_evening: bool = False
    reminded_morning: bool = False
    near_told: bool = False
    application_id: int | None = None  # registered after the visit (bot/queue/aftercare.py)


class QueueDesk(SQLModel, table=True):
    """The counter an officer sits at today (``/loket 4``)."""

    __tablename__ = "queue_desks"

    officer_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    counter: str = Field(max_length=8)
    current_id: int | None = None  # the booking the officer called last
    updated_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


class QueueNotice(SQLModel, table=True):
    """A disruption notice (``/gangguan``): one service or the whole office, until ``ends_at``
    or until a supervisor ends it."""

    __tablename__ = "queue_notices"

    id: int | None = Field(default=None, primary_key=True)
    service_id: str | None = Field(default=None, max_length=40)  # None: the whole office
    reason: str = Field(max_length=500)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    ends_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    all_clear_sent: bool = False


class QueueNoticeRecipient(SQLModel, table=True):
    """Who was told of a notice: each person once, and the same people get the all-clear."""

    __tablename__ = "queue_notice_recipients"

    notice_id: int = Field(primary_key=True, foreign_key="queue_notices.id")
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
