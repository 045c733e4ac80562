"""The queue's personal data: bookings in /dataku, cancelled (seats freed) and unlinked by
/hapusdata, and past visits unlinked after the configured retention."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.privacy.registry import apply_retention
from bot.queue import counter
from bot.queue.models import QueueBooking, QueueSlot
from bot.queue.service import book
from tests.support.queue import MONDAY, TUESDAY, TestClock, at


def _book(rt, user_id: int, day, start: str, reason=None) -> QueueBooking:  # noqa: ANN001
    with rt.db.session() as s:
        return book(s, rt, user_id=user_id, language="id", service_id="kia", day=day,
                    start=start, priority_reason=reason, now=at(rt, MONDAY, 6, 0))


async def test_bookings_are_exported_erased_and_kept_no_longer_than_the_retention(bot):
    rt = bot.rt
    TestClock(rt, at(rt, MONDAY, 8, 0))
    citizen = bot.user(3001, language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    visited = _book(rt, 3001, MONDAY, "08:30", "pregnant")
    upcoming = _book(rt, 3001, TUESDAY, "09:00")
    with rt.db.session() as s:
        counter.check_in(s, rt, code=visited.code, now=at(rt, MONDAY, 8, 20))

    await citizen.send("/dataku")
    sent = await citizen.reply()
    data = json.loads(bot.emulator.files[sent.document["file_id"]].data)
    exported = {b["code"]: b for b in data["queue"]["bookings"]}
    assert exported[visited.code]["priority"] == "pregnant"
    assert exported[visited.code]["status"] == "waiting" and exported[visited.code]["queue_number"]
    assert exported[upcoming.code]["day"] == "2027-03-23"

    await citizen.send("/hapusdata")
    await citizen.reply()
    await citizen.click("Ya, hapus data saya")
    _done, report = await citizen.replies(2)
    assert "Booking antrean Anda dibatalkan" in report.text
    with rt.db.session() as s:
        gone = s.get(QueueBooking, upcoming.id)
        assert (gone.user_id, gone.status) == (None, "cancelled")
        assert s.get(QueueSlot, ("kia", TUESDAY, "09:00")).taken_regular == 0
        kept = s.get(QueueBooking, visited.id)
        assert (kept.user_id, kept.priority_reason, kept.priority) == (None, None, True)


def test_retention_unlinks_old_visits_only(db):
    from tests.queue.test_service import runtime

    rt = runtime(db.url)
    old = _book(rt, 4001, MONDAY, "08:00")
    recent = _book(rt, 4002, TUESDAY, "08:00")
    with rt.db.session() as s:
        s.get(QueueBooking, old.id).status = "done"
        s.get(QueueBooking, recent.id).status = "done"
        s.get(QueueBooking, recent.id).created_at = at(rt, MONDAY, 6, 0) + timedelta(days=300)
    with rt.db.session() as s:
        done = apply_retention(s, {"queue": 365}, now=at(rt, MONDAY, 6, 0) + timedelta(days=366))
    assert done == {"queue": 1}
    with rt.db.session() as s:
        assert s.get(QueueBooking, old.id).user_id is None
        assert s.get(QueueBooking, recent.id).user_id == 4002
    rt.db.dispose()
