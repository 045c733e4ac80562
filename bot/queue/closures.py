"""A supervisor closes a day or part of it (/tutup): no more seats there, and everyone booked
in it is told at once, through the outbox, with a button to move."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from bot.core.i18n import N_, Translator
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.people.roles import audit
from bot.queue import rendering
from bot.queue.buttons import booking_data
from bot.queue.models import BOOKED, CLOSED, QueueBooking, QueueSlot
from bot.queue.service import (
    QueueError,
    config_of,
    drop_pending_reminders,
    ensure_slot,
    give_back_seat,
    local_today,
    slot_starts,
)


def _selection(
    rt: Any, *, day: date, start: str | None, end: str | None, service_id: str | None,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """The slot starts and the services a closing takes in; QueueError when it takes none."""
    config = config_of(rt)
    if config is None:
        raise QueueError(N_("This office does not take bookings in the chat."))
    if service_id is not None and service_id not in config.services:
        raise QueueError(N_("Unknown service {service}."), service=service_id)
    if day < local_today(rt, now):
        raise QueueError(N_("That day is already past."))
    starts = [s for s in slot_starts(rt, day)
              if (start is None or s >= start) and (end is None or s < end)]
    if not starts:
        raise QueueError(N_("There are no booking slots in that time."))
    return starts, [service_id] if service_id else list(config.services)


def _booked(starts: list[str], services: list[str], day: date) -> Any:
    return select(QueueBooking).where(
        QueueBooking.day == day, QueueBooking.status == BOOKED,
        QueueBooking.start.in_(starts), QueueBooking.service_id.in_(services),
    )


def preview(
    session: Session,
    rt: Any,
    *,
    day: date,
    start: str | None = None,
    end: str | None = None,
    service_id: str | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """What ``close`` would do, without doing it: (slots, booked citizens it would tell);
    QueueError as ``close``."""
    starts, services = _selection(rt, day=day, start=start, end=end, service_id=service_id,
                                  now=now or rt.now())
    booked = session.exec(_booked(starts, services, day)).all()
    return len(starts) * len(services), len(booked)


def close(
    session: Session,
    rt: Any,
    *,
    day: date,
    start: str | None = None,
    end: str | None = None,
    service_id: str | None = None,
    actor_id: int | None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Close the slots of ``day`` starting in [start, end) (the whole day without them), for
    one service or all; returns (slots closed, citizens told)."""
    now = now or rt.now()
    starts, services = _selection(rt, day=day, start=start, end=end, service_id=service_id,
                                  now=now)
    for sid in services:
        for slot in starts:
            ensure_slot(session, sid, day, slot)
        session.exec(
            update(QueueSlot)
            .where(QueueSlot.service_id == sid, QueueSlot.day == day, QueueSlot.start.in_(starts))
            .values(closed=True)
            .execution_options(synchronize_session=False)
        )
    booked = session.exec(_booked(starts, services, day).with_for_update()).all()
    for booking in booked:
        give_back_seat(session, booking)
        booking.status = CLOSED
        session.add(booking)
        drop_pending_reminders(session, booking.id)
        if booking.user_id is None:
            continue
        tr = Translator(booking.language)
        text = tr.gettext(
            "⚠️ Sorry: the office has closed {day}, {slot} for {service}. Your booking {code} "
            "cannot take place then. Please move it to another time."
        ).format(day=rendering.day_label(tr, day), slot=rendering.slot_label(rt, booking.start),
                 service=escape(rendering.service_name(rt, booking.service_id, tr.locale)),
                 code=booking.code)
        markup = {"inline_keyboard": [[{"text": tr.gettext("📅 Move {code}").format(
            code=booking.code), "callback_data": booking_data("m", booking.id)}]]}
        enqueue(session, not_before=now, chat_id=booking.user_id, text=text, reply_markup=markup,
                dedupe_key=f"queue:closed:{booking.id}:{day.isoformat()}:{booking.start}")
    audit(session, actor_id=actor_id, action="queue.close", subject=day.isoformat(),
          start=start, end=end, service=service_id, slots=len(starts) * len(services),
          told=len(booked))
    return len(starts) * len(services), len(booked)
