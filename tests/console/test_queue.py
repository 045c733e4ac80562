"""The queue in the console against the real bot: a day's slots and figures as each role may
see them, and closing a slot with the chat's own rules (the booked citizen is told through the
outbox with a button to move, the closing is audited)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.core.models import AuditEntry
from bot.queue import counter
from bot.queue.models import QueueBooking, QueueSlot
from bot.queue.service import book
from handlers.outbox_delivery import drain_outbox
from tests.support.console import (
    OFFICER,
    SUPERVISOR,
    citizen_in_chat,
    csrf_of,
    signed_in,
    start_console,
)
from tests.support.queue import MONDAY, TUESDAY, TestClock, at

BOOKED_CITIZEN, OTHER_CITIZEN, ELDERLY = 5101, 5102, 5103


@pytest.fixture
async def console(make_bot, database_url):  # noqa: ANN001, ANN201
    return await start_console(make_bot, database_url)


def booking(rt, user_id: int, day, start: str, *, priority: str | None = None,  # noqa: ANN001
            service_id: str = "ktp-el") -> QueueBooking:
    with rt.db.session() as s:
        return book(s, rt, user_id=user_id, language="id", service_id=service_id, day=day,
                    start=start, priority_reason=priority, now=at(rt, MONDAY, 6, 0))


def a_served_monday(rt) -> None:  # noqa: ANN001
    """Monday at KTP-el: two served after waits of 10 and 20 minutes (5 at the counter each),
    one booked who never came, one walk-in."""
    served = [booking(rt, 4000 + n, MONDAY, "08:00") for n in range(2)]
    booking(rt, 4010, MONDAY, "09:00")
    with rt.db.session() as s:
        counter.set_desk(s, rt, officer_id=OFFICER, counter="2")
        counter.walk_in(s, rt, service_id="ktp-el", priority_reason=None,
                        now=at(rt, MONDAY, 8, 0))
    for n, visit in enumerate(served):
        with rt.db.session() as s:
            counter.check_in(s, rt, code=visit.code, now=at(rt, MONDAY, 8, 0))
        with rt.db.session() as s:
            counter.call_next(s, rt, officer_id=OFFICER, now=at(rt, MONDAY, 8, 10 + 10 * n))
        with rt.db.session() as s:
            counter.done(s, rt, officer_id=OFFICER, now=at(rt, MONDAY, 8, 15 + 10 * n))


def row_of(html: str, element_id: str) -> str:
    found = re.search(rf'<tr id="{element_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


async def test_a_day_as_officer_and_supervisor_and_closing_a_slot(console):
    rt = console.rt
    citizen = await citizen_in_chat(console, BOOKED_CITIZEN, "Sari")
    other = await citizen_in_chat(console, OTHER_CITIZEN, "Budi")
    clock = TestClock(rt, at(rt, MONDAY, 7, 0))
    a_served_monday(rt)
    hers = booking(rt, BOOKED_CITIZEN, TUESDAY, "10:00")
    booking(rt, ELDERLY, TUESDAY, "10:00", priority="elderly")
    his = booking(rt, OTHER_CITIZEN, TUESDAY, "08:00")
    booking(rt, 4020, TUESDAY, "10:00", service_id="paspor")  # another unit's service
    clock.set(at(rt, TUESDAY, 7, 0))

    officer = await signed_in(console, OFFICER)
    supervisor = await signed_in(console, SUPERVISOR)
    try:
        # Monday, over: the chat's /statistik figures, with the no-show counted.
        monday = await officer.get("/console/queue?day=2027-03-22")
        assert monday.status_code == 200
        ktp = re.search(r'<tr data-service="ktp-el">(.*?)</tr>', monday.text, re.S).group(1)
        cells = re.findall(r"<td>(.*?)</td>", ktp)
        assert cells[1:5] == ["3", "1", "1", "2"]  # bookings, no-shows, walk-ins, served
        assert cells[5] == "15,0 · 20,0" and cells[6] == "5,0 · 5,0"

        # Today, as the officer of the unit: its services only, nothing to close.
        today = await officer.get("/console/queue")
        assert today.status_code == 200 and "Selasa, 23 Maret 2027" in today.text
        assert row_of(today.text, "slot-ktp-el-1000").split() == [
            "KTP", "Elektronik", "(KTP-el)", "10:00-10:30", "8", "2", "1", "/", "2", "0", "Terbuka"]
        assert "slot-paspor-" not in today.text and 'value="paspor"' not in today.text
        assert "/console/queue/close" not in today.text
        refused = await officer.post("/console/queue/close", data={
            "csrf": csrf_of(today.text), "day": "2027-03-23", "start": "10:00",
            "end": "10:30", "service": "ktp-el", "confirm": "1"})
        assert refused.status_code == 403

        # The supervisor closes the 10:00 slot: first how many will be told, then the closing.
        page = await supervisor.get("/console/queue")
        token = csrf_of(page.text)
        assert 'action="/console/queue/close"' in page.text
        form = {"csrf": token, "day": "2027-03-23", "start": "10:00", "end": "10:30",
                "service": "ktp-el"}
        asked = await supervisor.post("/console/queue/close", data=form)
        assert asked.status_code == 200
        assert "2 warga yang sudah booking akan langsung diberi tahu" in asked.text
        with rt.db.session() as s:
            assert s.get(QueueBooking, hers.id).status == "booked"  # nothing closed yet
        done = await supervisor.post("/console/queue/close", data={**form, "confirm": "1"})
        assert done.status_code == 303 and "closed=1:2" in done.headers["location"]
        shown = await supervisor.get(done.headers["location"])
        assert "1 slot ditutup. 2 warga" in shown.text
        assert row_of(shown.text, "slot-ktp-el-1000").endswith("Ditutup")
        assert row_of(shown.text, "slot-ktp-el-0800").split()[5] == "1"  # still taken

        for _ in range(3):
            await drain_outbox(console.app, rt, now=clock.advance(seconds=2))
        told = await citizen.reply(timeout=10)
        assert "menutup layanan KTP Elektronik (KTP-el) pada Selasa, 23 Maret 2027, " \
            "10:00-10:30" in told.text
        assert told.labels == [f"📅 Pindahkan {hers.code}"]
        await other.expect_silence(0.3)
        with rt.db.session() as s:
            assert s.get(QueueBooking, hers.id).status == "closed"
            assert s.get(QueueBooking, his.id).status == "booked"
            assert s.get(QueueSlot, ("ktp-el", TUESDAY, "10:00")).closed
            (entry,) = s.exec(select(AuditEntry).where(AuditEntry.action == "queue.close")).all()
            assert entry.actor_id == SUPERVISOR

        # Another unit's service, a past day, a time that is no time: refused, nothing closed.
        other_unit = await supervisor.post("/console/queue/close", data={
            **form, "service": "paspor", "confirm": "1"})
        assert other_unit.status_code == 403
        past = await supervisor.post("/console/queue/close", data={
            **form, "day": "2027-03-22", "confirm": "1"})
        assert past.status_code == 422 and "Hari itu sudah lewat." in past.text
        nonsense = await supervisor.post("/console/queue/close", data={
            **form, "start": "25:00", "confirm": "1"})
        assert nonsense.status_code == 422
        with rt.db.session() as s:
            assert s.exec(select(AuditEntry).where(
                AuditEntry.action == "queue.close")).all() == [entry]
            assert not s.exec(select(QueueSlot).where(
                QueueSlot.service_id == "paspor", QueueSlot.closed)).all()
    finally:
        await officer.aclose()
        await supervisor.aclose()


async def test_a_unit_supervisor_closing_every_service_closes_the_units_only(console):
    rt = console.rt
    TestClock(rt, at(rt, MONDAY, 7, 0))
    booking(rt, 4030, TUESDAY, "09:00", service_id="paspor")
    supervisor = await signed_in(console, SUPERVISOR)
    try:
        token = csrf_of((await supervisor.get("/console/queue")).text)
        closed = await supervisor.post("/console/queue/close", data={
            "csrf": token, "day": "2027-03-23", "start": "", "end": "", "service": "",
            "confirm": "1"})
        assert closed.status_code == 303
        with rt.db.session() as s:
            shut = {r.service_id for r in s.exec(select(QueueSlot).where(QueueSlot.closed))}
            assert "ktp-el" in shut and "paspor" not in shut
            assert s.exec(select(QueueBooking).where(
                QueueBooking.service_id == "paspor")).one().status == "booked"
    finally:
        await supervisor.aclose()
