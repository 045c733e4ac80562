"""Reminders through the outbox, with the clock moved: the evening before (with what to bring)
and the morning of the visit, never in quiet hours (21:00-07:00), none after a cancellation."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.outbox.models import OutboxMessage
from bot.queue.jobs import tick
from bot.queue.service import book, cancel
from handlers.outbox_delivery import drain_outbox
from tests.support.queue import TestClock, at

THURSDAY = date(2027, 3, 18)
FRIDAY = date(2027, 3, 19)


def _tick(rt, moment):  # noqa: ANN001, ANN202
    with rt.db.session() as s:
        return tick(s, rt, moment)


def _book(rt, user_id: int, language: str, start: str = "09:00"):  # noqa: ANN001, ANN202
    with rt.db.session() as s:
        return book(s, rt, user_id=user_id, language=language, service_id="kartu-keluarga",
                    day=FRIDAY, start=start, priority_reason=None,
                    now=at(rt, THURSDAY, 10, 0))


async def test_evening_and_morning_reminders_respect_quiet_hours_and_cancellations(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, THURSDAY, 10, 0))
    sari = bot.user(1001, language_code="id")
    john = bot.user(1002, language_code="en")
    for person in (sari, john):
        await person.send("/start")
        await person.reply()
    hers = _book(rt, 1001, "id")
    his = _book(rt, 1002, "en", "10:00")

    assert _tick(rt, at(rt, THURSDAY, 17, 59)).evening == 0
    result = _tick(rt, clock.set(at(rt, THURSDAY, 18, 0)))
    assert result.evening == 2
    assert _tick(rt, at(rt, THURSDAY, 18, 5)).evening == 0  # once
    # John cancels before the sender got to his reminder: it is not sent.
    with rt.db.session() as s:
        cancel(s, rt, booking_id=his.id, user_id=1002, now=at(rt, THURSDAY, 18, 1))
    await drain_outbox(bot.app, rt, now=at(rt, THURSDAY, 18, 2))
    evening = await sari.reply()
    assert evening.text.startswith("🔔 Pengingat: besok, Jumat, 19 Maret 2027, 09:00-09:30")
    assert "Yang perlu dibawa" in evening.text and hers.code in evening.text
    await john.expect_silence()

    # 06:30 is quiet time: the morning reminder waits until 07:00.
    assert _tick(rt, at(rt, FRIDAY, 6, 30)).morning == 0
    assert _tick(rt, at(rt, FRIDAY, 7, 0)).morning == 1
    await drain_outbox(bot.app, rt, now=at(rt, FRIDAY, 7, 1))
    morning = await sari.reply()
    assert morning.text.startswith("🔔 Hari ini pukul 09:00-09:30")
    assert "loket 1-4" in morning.text
    await john.expect_silence()
    with rt.db.session() as s:
        keys = sorted(k for k in s.exec(select(OutboxMessage.dedupe_key)).all() if k)
    assert keys == [f"queue:evening:{hers.id}", f"queue:morning:{hers.id}"]


async def test_an_evening_reminder_missed_in_quiet_hours_is_not_sent_late(bot):
    rt = bot.rt
    TestClock(rt, at(rt, THURSDAY, 10, 0))
    john = bot.user(1002, language_code="en")
    await john.send("/start")
    await john.reply()
    _book(rt, 1002, "en")
    # The bot was down from 17:00 until 22:00: quiet time, nothing goes out.
    assert _tick(rt, at(rt, THURSDAY, 22, 0)).evening == 0
    result = _tick(rt, at(rt, FRIDAY, 7, 0))
    assert (result.evening, result.morning) == (0, 1)
    await drain_outbox(bot.app, rt, now=at(rt, FRIDAY, 7, 1))
    morning = await john.reply()
    assert morning.text.startswith("🔔 Today at 09:00-09:30 you have a visit for Family card")
    assert "Cannot come? Cancel or move it in /antreanku" in morning.text
