"""The day's queue at the counters: check-in, walk-ins, calling the next citizen (atomic across
instances), skipping, serving, and what the citizen is told along the way (via the outbox)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, update
from sqlmodel import Session, select

from bot.core.i18n import N_, Translator
from bot.outbox.store import enqueue
from bot.queue import rendering
from bot.queue.buttons import booking_data
from bot.queue.config import PRIORITY_REASONS, QueueConfig
from bot.queue.models import (
    BOOKED,
    CALLED,
    DONE,
    KIND_BOOKED,
    KIND_WALKIN,
    SERVING,
    SKIPPED,
    WAITING,
    QueueBooking,
    QueueDesk,
    QueueSlot,
)
from bot.queue.service import (
    QueueError,
    config_of,
    ensure_slot,
    local_today,
    new_code,
    normalize_code,
    queue_service,
)

TICKETS = "_tickets"  # the queue_slots row counting a day's queue numbers
EARTH_RADIUS_M = 6_371_000


def _config(rt: Any) -> QueueConfig:
    config = config_of(rt)
    if config is None:
        raise QueueError(N_("This service cannot be booked in the chat."))
    return config


def next_ticket(session: Session, day: Any) -> int:
    """The day's next queue number, from one counter row updated atomically."""
    ensure_slot(session, TICKETS, day, "00:00")
    return session.exec(
        update(QueueSlot)
        .where(QueueSlot.service_id == TICKETS, QueueSlot.day == day, QueueSlot.start == "00:00")
        .values(taken_regular=QueueSlot.taken_regular + 1)
        .returning(QueueSlot.taken_regular)
    ).scalar_one()


def line_services(config: QueueConfig, service_id: str) -> list[str]:
    """The services sharing a counter with ``service_id``: one line of waiting citizens."""
    counters = set(config.services[service_id].counters)
    return [sid for sid, s in config.services.items() if counters & set(s.counters)]


def _kind_rank(config: QueueConfig, booking: QueueBooking) -> int:
    kind = "priority" if booking.priority else (
        "booked" if booking.kind == KIND_BOOKED else "walkin")
    return config.call_order.index(kind)


def order_key(config: QueueConfig, booking: QueueBooking) -> tuple:
    """The calling order (the same as call_next's ORDER BY): the configured kind order, then
    bookings by slot, then arrival. A citizen back after a skip goes behind their kind."""
    start = "99:99" if booking.returned or booking.start is None else booking.start
    return (_kind_rank(config, booking), start, booking.checked_in_at, booking.ticket or 0)


def waiting_line(session: Session, rt: Any, service_id: str, day: Any) -> list[QueueBooking]:
    config = _config(rt)
    rows = session.exec(
        select(QueueBooking).where(
            QueueBooking.day == day,
            QueueBooking.status == WAITING,
            QueueBooking.service_id.in_(line_services(config, service_id)),
        )
    ).all()
    return sorted(rows, key=lambda b: order_key(config, b))


def ahead_of(session: Session, rt: Any, booking: QueueBooking) -> int:
    line = waiting_line(session, rt, booking.service_id, booking.day)
    return next((i for i, b in enumerate(line) if b.id == booking.id), len(line))


def tell(session: Session, rt: Any, booking: QueueBooking, text: str, key: str,
         markup: dict | None = None) -> None:
    """A message to the citizen through the outbox, due now on the queue's clock."""
    if booking.user_id is not None:
        enqueue(session, chat_id=booking.user_id, text=text, dedupe_key=key, reply_markup=markup,
                not_before=rt.now())


def return_markup(booking: QueueBooking, tr: Translator) -> dict:
    return {"inline_keyboard": [[{"text": tr.gettext("↩ Return to the queue"),
                                  "callback_data": booking_data("r", booking.id)}]]}


def _queue_up(session: Session, rt: Any, booking: QueueBooking, now: datetime) -> int:
    """Into the waiting line; returns how many are ahead (and remembers whether the citizen
    was already told they are near, so they are not told again)."""
    booking.status = WAITING
    booking.checked_in_at = now
    if booking.ticket is None:
        booking.ticket = next_ticket(session, booking.day)
    session.add(booking)
    session.flush()
    ahead = ahead_of(session, rt, booking)
    if ahead <= _config(rt).near_notice:
        booking.near_told = True
        session.add(booking)
    return ahead


def check_in(
    session: Session, rt: Any, *, code: str, now: datetime | None = None,
    user_id: int | None = None,
) -> tuple[QueueBooking, int]:
    """Check a booking in for today by its code (at the counter, or the citizen's own when
    ``user_id`` is given). Checking in twice gives the same number."""
    now = now or rt.now()
    normalized = normalize_code(code)
    booking = None
    if normalized is not None:
        booking = session.exec(
            select(QueueBooking).where(QueueBooking.code == normalized).with_for_update()
        ).first()
    if booking is None or (user_id is not None and booking.user_id != user_id):
        raise QueueError(N_("No booking has this code. Please check it and try again."))
    if booking.day != local_today(rt, now):
        raise QueueError(N_("This booking is for another day."))
    if booking.status in (WAITING, CALLED, SERVING):
        return booking, ahead_of(session, rt, booking) if booking.status == WAITING else 0
    if booking.status == SKIPPED and not booking.returned:
        booking.returned = True
        return booking, _queue_up(session, rt, booking, now)
    if booking.status != BOOKED:
        raise QueueError(N_("This booking can no longer be checked in."))
    return booking, _queue_up(session, rt, booking, now)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def check_in_by_location(
    session: Session, rt: Any, *, user_id: int, lat: float, lon: float,
    now: datetime | None = None,
) -> tuple[QueueBooking, int]:
    """Check in the citizen's visit of today when their live location is at the office."""
    now = now or rt.now()
    office = rt.knowledge.office
    if distance_m(lat, lon, office.lat, office.lon) > _config(rt).checkin_radius_m:
        raise QueueError(N_("You are not at the office yet. Share your live location again "
                            "when you are there, or show your code at the counter."))
    today = local_today(rt, now)
    booking = session.exec(
        select(QueueBooking)
        .where(
            QueueBooking.user_id == user_id,
            QueueBooking.day == today,
            or_(QueueBooking.status.in_((BOOKED, WAITING, CALLED, SERVING)),
                (QueueBooking.status == SKIPPED) & QueueBooking.returned.is_(False)),
        )
        .order_by(QueueBooking.start, QueueBooking.id)
    ).first()
    if booking is None:
        raise QueueError(N_("You have no booking for today. Book one with /antrean."))
    return check_in(session, rt, code=booking.code, now=now, user_id=user_id)


def walk_in(
    session: Session, rt: Any, *, service_id: str, priority_reason: str | None,
    now: datetime | None = None,
) -> tuple[QueueBooking, int]:
    """A number for a citizen without a booking, in the same line."""
    now = now or rt.now()
    queue_service(rt, service_id)
    if priority_reason is not None and priority_reason not in PRIORITY_REASONS:
        raise QueueError(N_("Unknown priority reason."))
    booking = QueueBooking(
        code=new_code(session), service_id=service_id, kind=KIND_WALKIN,
        day=local_today(rt, now), priority=priority_reason is not None,
        priority_reason=priority_reason, status=WAITING, created_at=now,
    )
    session.add(booking)
    session.flush()
    return booking, _queue_up(session, rt, booking, now)


# --- officers -------------------------------------------------------------------------------


def set_desk(session: Session, rt: Any, *, officer_id: int, counter: str,
             now: datetime | None = None) -> list[str]:
    """Sit an officer at a counter; returns the services called there."""
    config = _config(rt)
    counter = counter.strip().upper()
    services = [sid for sid, s in config.services.items() if counter in s.counters]
    if not services:
        raise QueueError(N_("No bookable service is served at counter {counter}."),
                         counter=counter)
    desk = session.get(QueueDesk, officer_id) or QueueDesk(officer_id=officer_id, counter=counter)
    desk.counter, desk.updated_at = counter, now or rt.now()
    session.add(desk)
    return services


def _desk(session: Session, officer_id: int) -> QueueDesk:
    desk = session.get(QueueDesk, officer_id)
    if desk is None:
        raise QueueError(N_("Tell me your counter first, e.g. /loket 4."))
    return desk


def call_next(
    session: Session, rt: Any, *, officer_id: int, now: datetime | None = None
) -> QueueBooking | None:
    """Call the next waiting citizen to the officer's counter; None when nobody waits.

    Atomic across instances: on PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED (an
    officer pressing at the same moment gets the next one, never the same), and on SQLite the
    pick and the update are one statement under the write lock. The UPDATE repeats the
    WAITING condition either way."""
    now = now or rt.now()
    config = _config(rt)
    desk = _desk(session, officer_id)
    services = [sid for sid, s in config.services.items() if desk.counter in s.counters]
    rank = {kind: i for i, kind in enumerate(config.call_order)}
    order = (
        case(
            (QueueBooking.priority.is_(True), rank["priority"]),
            (QueueBooking.kind == KIND_BOOKED, rank["booked"]),
            else_=rank["walkin"],
        ),
        case(
            (or_(QueueBooking.returned.is_(True), QueueBooking.start.is_(None)), "99:99"),
            else_=QueueBooking.start,
        ),
        QueueBooking.checked_in_at,
        QueueBooking.ticket,
    )
    pick = (
        select(QueueBooking.id)
        .where(
            QueueBooking.day == local_today(rt, now),
            QueueBooking.status == WAITING,
            QueueBooking.service_id.in_(services),
        )
        .order_by(*order)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = session.exec(pick.with_for_update(skip_locked=True)).first()
        if picked is None:
            return None
        target = QueueBooking.id == picked
    else:
        target = QueueBooking.id == pick.scalar_subquery()
    called_id = session.exec(
        update(QueueBooking)
        .where(target, QueueBooking.status == WAITING)
        .values(status=CALLED, called_at=now, called_by=officer_id, counter=desk.counter)
        .returning(QueueBooking.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if called_id is None:
        return None
    desk.current_id = called_id
    session.add(desk)
    booking = session.get(QueueBooking, called_id, populate_existing=True)
    tr = Translator(booking.language)
    tell(session, rt, booking, rendering.called_text(booking, tr),
          f"queue:called:{booking.id}:{int(booking.returned)}")
    _tell_near(session, rt, booking)
    return booking


def _tell_near(session: Session, rt: Any, called: QueueBooking) -> None:
    """Whoever now has ``near_notice`` or fewer people ahead hears it once. Rows another
    officer's call holds are skipped (SKIP LOCKED), never waited for: two calls at once must
    not deadlock, and the next call tells whoever was skipped."""
    near = _config(rt).near_notice
    line = waiting_line(session, rt, called.service_id, called.day)[: near + 1]
    ahead_by_id = {booking.id: ahead for ahead, booking in enumerate(line)
                   if not booking.near_told}
    if not ahead_by_id:
        return
    free = session.exec(
        select(QueueBooking)
        .where(QueueBooking.id.in_(ahead_by_id), QueueBooking.status == WAITING,
               QueueBooking.near_told.is_(False))
        .order_by(QueueBooking.id)
        .with_for_update(skip_locked=True)
    ).all()
    for booking in free:
        booking.near_told = True
        session.add(booking)
        ahead = ahead_by_id[booking.id]
        text = rendering.near_text(booking, ahead, Translator(booking.language))
        tell(session, rt, booking, text, f"queue:near:{booking.id}:{int(booking.returned)}")


def current(session: Session, *, officer_id: int, booking_id: int | None = None) -> QueueBooking:
    """The citizen the officer called and is still with (or the one a button names, if the
    officer called them)."""
    desk = _desk(session, officer_id)
    wanted = booking_id if booking_id is not None else desk.current_id
    booking = session.get(QueueBooking, wanted, with_for_update=True) if wanted else None
    if booking is None or booking.called_by != officer_id or booking.status not in (CALLED,
                                                                                   SERVING):
        raise QueueError(N_("You have nobody at your counter. Call the next one with /panggil."))
    return booking


def arrive(session: Session, rt: Any, *, officer_id: int, booking_id: int | None = None
           ) -> QueueBooking:
    booking = current(session, officer_id=officer_id, booking_id=booking_id)
    booking.status = SERVING
    session.add(booking)
    return booking


def _skip(session: Session, rt: Any, booking: QueueBooking) -> None:
    booking.status = SKIPPED
    session.add(booking)
    tr = Translator(booking.language)
    may_return = not booking.returned
    tell(session, rt, booking, rendering.skipped_text(rt, booking, tr, may_return=may_return),
          f"queue:skipped:{booking.id}:{int(booking.returned)}",
          return_markup(booking, tr) if may_return else None)


def skip(session: Session, rt: Any, *, officer_id: int, booking_id: int | None = None
         ) -> QueueBooking:
    booking = current(session, officer_id=officer_id, booking_id=booking_id)
    _skip(session, rt, booking)
    return booking


def done(session: Session, rt: Any, *, officer_id: int, booking_id: int | None = None,
         now: datetime | None = None) -> QueueBooking:
    """The citizen was served: the visit is over, and the satisfaction survey will follow."""
    from bot.queue.aftercare import after_service

    now = now or rt.now()
    booking = current(session, officer_id=officer_id, booking_id=booking_id)
    booking.status = DONE
    booking.done_at = now
    session.add(booking)
    after_service(session, rt, booking, now)
    return booking


def expire_calls(session: Session, rt: Any, now: datetime | None = None) -> int:
    """Citizens called longer ago than the grace time who never reached the counter are
    skipped, and told how to come back once."""
    now = now or rt.now()
    grace = timedelta(minutes=_config(rt).grace_minutes)
    late = session.exec(
        select(QueueBooking)
        .where(QueueBooking.status == CALLED, QueueBooking.called_at < now - grace)
        .with_for_update(skip_locked=True)
    ).all()
    for booking in late:
        _skip(session, rt, booking)
    return len(late)


def return_to_queue(session: Session, rt: Any, *, booking_id: int, user_id: int,
                    now: datetime | None = None) -> tuple[QueueBooking, int]:
    """The citizen's one return after a skip (the button under the skip notice)."""
    now = now or rt.now()
    booking = session.get(QueueBooking, booking_id, with_for_update=True)
    if booking is None or booking.user_id != user_id:
        raise QueueError(N_("This button is no longer valid. Please start again from the menu."))
    if booking.status != SKIPPED or booking.returned or booking.day != local_today(rt, now):
        raise QueueError(N_("You can return to the queue only once, on the day of your visit."))
    booking.returned = True
    booking.near_told = False
    return booking, _queue_up(session, rt, booking, now)

