"""The queue's clockwork, run by one repeating job on every instance: reminders the evening
before and the morning of a visit, called citizens past the grace time, notices past their end.
What is due and what was done lives in the database, so instances never double a message
(each message also carries a dedupe key in the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.core.i18n import Translator
from bot.outbox.store import enqueue
from bot.queue import rendering
from bot.queue.counter import expire_calls
from bot.queue.models import BOOKED, QueueBooking
from bot.queue.notices import expire_notices
from bot.queue.service import config_of, local_today, reminder_keys


@dataclass
class TickResult:
    evening: int = 0
    morning: int = 0
    skipped: int = 0
    notices_ended: int = 0


def _quiet(rt: Any) -> Any:
    from bot.core.timewindows import QuietHours

    return QuietHours.parse(rt.settings.quiet_hours, rt.tz)


def send_reminders(session: Session, rt: Any, now: datetime) -> tuple[int, int]:
    """Queue the due reminders; returns (evening, morning) counts.

    The evening reminder (with what to bring) goes from ``remind_evening`` on the day before;
    the morning one from ``remind_morning`` on the day, until the slot starts. Never in quiet
    hours: a reminder due then waits for their end, and one whose moment passed unsent (a
    booking made late at night) is not sent at all. A cancelled or moved booking is no longer
    BOOKED for its old day, so nothing goes out for it."""
    config = config_of(rt)
    quiet = _quiet(rt)
    if config is None or (quiet is not None and quiet.contains(now)):
        return 0, 0
    local = now.astimezone(rt.tz)
    today = local_today(rt, now)
    evening = morning = 0
    evening_key, morning_key = 0, 1
    # A booking made after the reminder's moment was just confirmed: no reminder for it.
    evening_at = datetime.combine(today, config.remind_evening, tzinfo=rt.tz)
    morning_at = datetime.combine(today, config.remind_morning, tzinfo=rt.tz)
    if local >= evening_at:
        tomorrow = today + timedelta(days=1)
        due = session.exec(
            select(QueueBooking).where(
                QueueBooking.status == BOOKED, QueueBooking.day == tomorrow,
                QueueBooking.reminded_evening.is_(False), QueueBooking.user_id.is_not(None),
                QueueBooking.created_at < evening_at,
            ).with_for_update(skip_locked=True)
        ).all()
        for booking in due:
            booking.reminded_evening = True
            session.add(booking)
            tr = Translator(booking.language)
            enqueue(session, not_before=now, chat_id=booking.user_id,
                    text=rendering.reminder_text(rt, booking, tr, evening=True),
                    dedupe_key=reminder_keys(booking.id)[evening_key])
            evening += 1
    if local >= morning_at:
        due = session.exec(
            select(QueueBooking).where(
                QueueBooking.status == BOOKED, QueueBooking.day == today,
                QueueBooking.slot_at > now, QueueBooking.reminded_morning.is_(False),
                QueueBooking.user_id.is_not(None), QueueBooking.created_at < morning_at,
            ).with_for_update(skip_locked=True)
        ).all()
        for booking in due:
            booking.reminded_morning = True
            session.add(booking)
            tr = Translator(booking.language)
            enqueue(session, not_before=now, chat_id=booking.user_id,
                    text=rendering.reminder_text(rt, booking, tr, evening=False),
                    dedupe_key=reminder_keys(booking.id)[morning_key])
            morning += 1
    return evening, morning


def tick(session: Session, rt: Any, now: datetime | None = None) -> TickResult:
    now = now or rt.now()
    result = TickResult()
    if config_of(rt) is None:
        return result
    result.evening, result.morning = send_reminders(session, rt, now)
    result.skipped = expire_calls(session, rt, now)
    result.notices_ended = expire_notices(session, rt, now)
    return result
