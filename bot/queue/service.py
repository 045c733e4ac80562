"""Booking rules: which days and slots have room, taking and giving back a seat atomically,
cancelling and moving. The chat handlers and the benchmark call these; no Telegram here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot.core.i18n import N_
from bot.outbox.models import OutboxMessage
from bot.queue.config import PRIORITY_REASONS, WEEKDAYS, QueueConfig, QueueService
from bot.queue.models import (
    ACTIVE,
    BOOKED,
    CANCELLED,
    CLOSED,
    KIND_BOOKED,
    QueueBooking,
    QueueSlot,
)

# Booking codes are read aloud at the counter and typed on cheap phones: no 0/O, no 1/I.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
# A citizen holds at most this many visits at once: enough for a family's errands, not enough
# to hoard a day's seats.
MAX_ACTIVE_BOOKINGS = 3
SEAT_REGULAR, SEAT_PRIORITY = "regular", "priority"


class QueueError(Exception):
    """A booking action that cannot happen; ``msgid`` tells the citizen why (English msgid)."""

    def __init__(self, msgid: str, **values: Any) -> None:
        self.msgid = msgid
        self.values = values
        super().__init__(msgid)


@dataclass(frozen=True)
class SlotRoom:
    start: str  # "08:30", office time
    seats_left: int  # for the asking citizen (priority visitors may use regular seats too)



def config_of(rt: Any) -> QueueConfig | None:
    return getattr(rt.knowledge.office, "queue", None)


def queue_service(rt: Any, service_id: str) -> QueueService:
    config = config_of(rt)
    if config is None or service_id not in config.services:
        raise QueueError(N_("This service cannot be booked in the chat."))
    return config.services[service_id]


def local_today(rt: Any, now: datetime) -> date:
    return now.astimezone(rt.tz).date()


def booking_hours(rt: Any, day: date) -> list[tuple[time, time]]:
    """The booking hours on ``day``: the queue's own, else the office's opening hours."""
    config = config_of(rt)
    name = WEEKDAYS[day.weekday()]
    if config is not None and name in config.hours:
        return list(config.hours[name])
    return [(r.start, r.end) for r in rt.knowledge.office.opening_hours.on(day.weekday())]


def slot_starts(rt: Any, day: date) -> list[str]:
    """Every slot start of ``day`` as "HH:MM" (a slot must end within the booking hours)."""
    config = config_of(rt)
    if config is None or not rt.calendar.is_working_day(day):
        return []
    length = config.slot_minutes
    starts = []
    for begin, end in booking_hours(rt, day):
        minute, last = begin.hour * 60 + begin.minute, end.hour * 60 + end.minute
        while minute + length <= last:
            starts.append(f"{minute // 60:02d}:{minute % 60:02d}")
            minute += length
    return starts


def slot_moment(rt: Any, day: date, start: str) -> datetime:
    hour, minute = (int(p) for p in start.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=rt.tz).astimezone(UTC)


def capacity(rt: Any, service_id: str) -> tuple[int, int]:
    """(regular seats, priority seats) of one slot of the service."""
    config = config_of(rt)
    quota = queue_service(rt, service_id).quota
    priority = config.priority_seats(quota)
    return quota - priority, priority


def _taken(session: Session, service_id: str, first: date, last: date
           ) -> dict[tuple[date, str], QueueSlot]:
    rows = session.exec(
        select(QueueSlot).where(
            QueueSlot.service_id == service_id, QueueSlot.day >= first, QueueSlot.day <= last
        )
    ).all()
    return {(row.day, row.start): row for row in rows}


def _rooms(rt: Any, service_id: str, day: date, now: datetime, priority: bool,
           taken: dict[tuple[date, str], QueueSlot]) -> list[SlotRoom]:
    regular_cap, priority_cap = capacity(rt, service_id)
    out = []
    for start in slot_starts(rt, day):
        if slot_moment(rt, day, start) <= now:
            continue
        row = taken.get((day, start))
        if row is not None and row.closed:
            continue
        left = regular_cap - (row.taken_regular if row else 0)
        if priority:
            left += priority_cap - (row.taken_priority if row else 0)
        if left > 0:
            out.append(SlotRoom(start, left))
    return out


def rooms(
    session: Session, rt: Any, service_id: str, day: date, now: datetime, *, priority: bool
) -> list[SlotRoom]:
    """The slots of ``day`` still ahead of ``now`` with seats left for this kind of visitor."""
    return _rooms(rt, service_id, day, now, priority, _taken(session, service_id, day, day))


def open_days(
    session: Session, rt: Any, service_id: str, now: datetime, *, priority: bool = False,
    limit: int = 6,
) -> list[date]:
    """The next working days (today included) with a seat left, at most ``limit``, within the
    configured ``days_ahead`` working days (one query for all of them)."""
    config = config_of(rt)
    queue_service(rt, service_id)
    days: list[date] = []
    day = local_today(rt, now)
    while len(days) < config.days_ahead:
        if rt.calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    taken = _taken(session, service_id, days[0], days[-1])
    return [d for d in days if _rooms(rt, service_id, d, now, priority, taken)][:limit]


def _bookable_day(rt: Any, day: date, now: datetime) -> None:
    config = config_of(rt)
    today = local_today(rt, now)
    last = today
    working = 1 if rt.calendar.is_working_day(today) else 0
    while working < config.days_ahead:
        last += timedelta(days=1)
        if rt.calendar.is_working_day(last):
            working += 1
    if day < today or day > last or not rt.calendar.is_working_day(day):
        raise QueueError(N_("That day cannot be booked. Please choose another day."))


def ensure_slot(session: Session, service_id: str, day: date, start: str) -> None:
    """The slot's row exists (inserted once; a concurrent insert is no error)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.exec(
        insert(QueueSlot)
        .values(service_id=service_id, day=day, start=start, taken_regular=0,
                taken_priority=0, closed=False)
        .on_conflict_do_nothing()
    )


def _slot_key(service_id: str, day: date, start: str) -> Any:
    return and_(QueueSlot.service_id == service_id, QueueSlot.day == day, QueueSlot.start == start)


def take_seat(
    session: Session, rt: Any, service_id: str, day: date, start: str, *, priority: bool
) -> str | None:
    """Take one seat of the slot in one conditional UPDATE (the count and the check in the
    same statement, under the row's lock: no overbooking, whatever the number of instances).
    Priority visitors take a priority seat first, then a regular one. Returns the seat kind,
    or None when the slot is full or closed."""
    regular_cap, priority_cap = capacity(rt, service_id)
    ensure_slot(session, service_id, day, start)
    key = _slot_key(service_id, day, start)
    tries = [(SEAT_PRIORITY, QueueSlot.taken_priority, priority_cap)] if priority else []
    tries.append((SEAT_REGULAR, QueueSlot.taken_regular, regular_cap))
    for seat, column, cap in tries:
        result = session.exec(
            update(QueueSlot)
            .where(key, QueueSlot.closed.is_(False), column < cap)
            .values({column.key: column + 1})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return seat
    return None


def give_back_seat(session: Session, booking: QueueBooking) -> None:
    """The seat of a cancelled or moved booking is free again at once."""
    if booking.start is None or booking.seat is None:
        return
    column = QueueSlot.taken_priority if booking.seat == SEAT_PRIORITY else QueueSlot.taken_regular
    session.exec(
        update(QueueSlot)
        .where(_slot_key(booking.service_id, booking.day, booking.start), column > 0)
        .values({column.key: column - 1})
        .execution_options(synchronize_session=False)
    )
    booking.seat = None


def new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(QueueBooking.id).where(QueueBooking.code == code)).first() is None:
            return code


def normalize_code(text: str) -> str | None:
    """A code as typed, with case, spaces and dashes forgiven; None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def active_bookings(session: Session, user_id: int, now: datetime, rt: Any) -> list[QueueBooking]:
    """The citizen's visits from today on that are not over, soonest first."""
    today = local_today(rt, now)
    return list(
        session.exec(
            select(QueueBooking)
            .where(
                QueueBooking.user_id == user_id,
                QueueBooking.day >= today,
                QueueBooking.status.in_((*ACTIVE, CLOSED)),
            )
            .order_by(QueueBooking.day, QueueBooking.start, QueueBooking.id)
        ).all()
    )


def book(
    session: Session,
    rt: Any,
    *,
    user_id: int,
    language: str,
    service_id: str,
    day: date,
    start: str,
    priority_reason: str | None,
    now: datetime | None = None,
) -> QueueBooking:
    """Book a seat: checks the day and slot, one visit per service and day, at most
    MAX_ACTIVE_BOOKINGS; raises QueueError with the reason otherwise."""
    now = now or rt.now()
    queue_service(rt, service_id)
    if priority_reason is not None and priority_reason not in PRIORITY_REASONS:
        raise QueueError(N_("This button is no longer valid. Please start again from the menu."))
    _bookable_day(rt, day, now)
    if start not in slot_starts(rt, day) or slot_moment(rt, day, start) <= now:
        raise QueueError(N_("That time slot cannot be booked. Please choose another one."))
    mine = active_bookings(session, user_id, now, rt)
    if any(b.service_id == service_id and b.day == day and b.status != CLOSED for b in mine):
        raise QueueError(N_("You already have a booking for this service on that day."))
    if len([b for b in mine if b.status != CLOSED]) >= MAX_ACTIVE_BOOKINGS:
        raise QueueError(
            N_("You already hold {count} bookings. Cancel one in /antreanku to book another."),
            count=MAX_ACTIVE_BOOKINGS,
        )
    seat = take_seat(session, rt, service_id, day, start, priority=priority_reason is not None)
    if seat is None:
        raise QueueError(N_("Sorry, that slot has just been filled. Please choose another one."))
    booking = QueueBooking(
        code=new_code(session),
        user_id=user_id,
        language=language,
        service_id=service_id,
        kind=KIND_BOOKED,
        day=day,
        start=start,
        slot_at=slot_moment(rt, day, start),
        priority=priority_reason is not None,
        priority_reason=priority_reason,
        seat=seat,
        status=BOOKED,
        created_at=now,
    )
    session.add(booking)
    session.flush()
    return booking


def owned_booking(session: Session, booking_id: int, user_id: int) -> QueueBooking:
    """The booking behind a button, if it is the presser's; anything else is refused alike."""
    booking = session.get(QueueBooking, booking_id, with_for_update=True)
    if booking is None or booking.user_id != user_id:
        raise QueueError(N_("This button is no longer valid. Please start again from the menu."))
    return booking


def reminder_keys(booking_id: int) -> list[str]:
    return [f"queue:evening:{booking_id}", f"queue:morning:{booking_id}"]


def drop_pending_reminders(session: Session, booking_id: int) -> None:
    """Reminders already queued but not sent are not sent after a cancellation or a move."""
    session.exec(
        delete(OutboxMessage).where(
            OutboxMessage.dedupe_key.in_(reminder_keys(booking_id)),
            OutboxMessage.status == "pending",
        )
    )


def cancel(
    session: Session, rt: Any, *, booking_id: int, user_id: int, now: datetime | None = None
) -> QueueBooking:
    now = now or rt.now()
    booking = owned_booking(session, booking_id, user_id)
    if booking.status not in (BOOKED, CLOSED):
        raise QueueError(N_("This booking can no longer be cancelled."))
    give_back_seat(session, booking)
    booking.status = CANCELLED
    booking.cancelled_at = now
    session.add(booking)
    drop_pending_reminders(session, booking.id)
    return booking


def move(
    session: Session,
    rt: Any,
    *,
    booking_id: int,
    user_id: int,
    day: date,
    start: str,
    now: datetime | None = None,
) -> QueueBooking:
    """Move a booking to another slot: the new seat is taken before the old one is given
    back, so a full day never loses the citizen their first seat."""
    now = now or rt.now()
    booking = owned_booking(session, booking_id, user_id)
    if booking.status not in (BOOKED, CLOSED):
        raise QueueError(N_("This booking can no longer be moved."))
    _bookable_day(rt, day, now)
    if start not in slot_starts(rt, day) or slot_moment(rt, day, start) <= now:
        raise QueueError(N_("That time slot cannot be booked. Please choose another one."))
    if (day, start) == (booking.day, booking.start) and booking.status == BOOKED:
        return booking
    seat = take_seat(session, rt, booking.service_id, day, start, priority=booking.priority)
    if seat is None:
        raise QueueError(N_("Sorry, that slot has just been filled. Please choose another one."))
    give_back_seat(session, booking)
    booking.day, booking.start, booking.seat = day, start, seat
    booking.slot_at = slot_moment(rt, day, start)
    booking.status = BOOKED
    booking.reminded_evening = booking.reminded_morning = False
    session.add(booking)
    drop_pending_reminders(session, booking.id)
    return booking
