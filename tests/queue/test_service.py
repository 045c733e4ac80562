"""Queue rules without Telegram: the knowledge section's validation, seats taken atomically
under concurrency (threads on their own connections, as two instances would), the calling
order, and calls that never give one citizen to two officers."""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.db import Database
from bot.core.runtime import Runtime
from bot.core.workdays import WorkingCalendar
from bot.qa.knowledge import KnowledgeError
from bot.qa.loader import load_knowledge
from bot.queue import counter
from bot.queue.models import CALLED, QueueBooking, QueueSlot
from bot.queue.service import QueueError, book, normalize_code, open_days, rooms, slot_starts
from tests.support.queue import AFTER_LEBARAN, FRIDAY, MONDAY, TestClock, at

SAMPLE = PROJECT_ROOT / "knowledge"


def runtime(database_url: str) -> Runtime:
    """A Runtime without Telegram: settings, db, knowledge, calendar."""
    settings = load_settings(database_url=database_url, knowledge_dir=SAMPLE)
    kb = load_knowledge(SAMPLE)
    return Runtime(
        settings=settings, db=Database(database_url), knowledge=kb,
        calendar=WorkingCalendar(settings.tz, closed_dates=kb.office.closed_dates),
    )


@pytest.fixture
def rt(database_url: str):  # noqa: ANN201
    runtime_ = runtime(database_url)
    yield runtime_
    runtime_.db.dispose()


# --- the knowledge base -------------------------------------------------------------------


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(directory)
    return [str(p) for p in err.value.problems]


def test_queue_section_mistakes_are_reported_with_file_and_line(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target)
    office = target / "office.yaml"
    text = office.read_text(encoding="utf-8")
    text = text.replace("  slot_minutes: 30", "  slot_minutes: 3")
    text = text.replace("  priority_share: 20", "  priority_share: 120")
    text = text.replace("ktp-el: {quota: 8, counters: 1-4}", "ktp-el: {quota: 0, counters: 1-4}")
    text = text.replace("kia: {quota: 4, counters: 5}", "kia: {quota: 4, counters: 'Loket 5'}")
    text = text.replace("  call_order: [priority, booked, walkin]", "  call_order: [booked]")
    office.write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line(needle: str) -> int:
        return next(n for n, row in enumerate(lines, 1) if needle in row)

    problems = _problems(target)
    assert any(p.startswith(f"{office}:{line('slot_minutes: 3')}: queue.slot_minutes:")
               for p in problems), problems
    assert any(p.startswith(f"{office}:{line('priority_share: 120')}: queue.priority_share:")
               for p in problems), problems
    assert any(p.startswith(f"{office}:{line('ktp-el: {quota: 0')}: "
                            "queue.services.ktp-el.quota:") for p in problems), problems
    assert any(p.startswith(f"{office}:{line('kia: {quota: 4')}: queue.services.kia.counters")
               and "short number" in p for p in problems), problems
    assert any(p.startswith(f"{office}:{line('call_order:')}: queue.call_order:")
               for p in problems), problems


def test_an_unknown_service_in_the_queue_section_is_named_with_its_line(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target)
    office = target / "office.yaml"
    text = office.read_text(encoding="utf-8").replace(
        "    sim: {quota: 6, counters: 15-16}", "    simm: {quota: 6, counters: 15-16}")
    office.write_text(text, encoding="utf-8")
    number = next(n for n, row in enumerate(text.splitlines(), 1) if "simm:" in row)
    assert _problems(target) == [
        f"{office}:{number}: queue.services.simm: no service with this id in services/"
    ]


def test_slots_follow_the_booking_hours_and_the_calendar(sqlite_db):
    rt = runtime(sqlite_db.url)
    assert slot_starts(rt, MONDAY)[:3] == ["08:00", "08:30", "09:00"]
    assert slot_starts(rt, MONDAY)[-1] == "14:00"
    friday = date(2027, 3, 19)
    assert "11:00" not in slot_starts(rt, friday) and "13:00" in slot_starts(rt, friday)
    assert slot_starts(rt, date(2027, 3, 10)) == []  # Idul Fitri
    with rt.db.session() as s:
        days = open_days(s, rt, "ktp-el", at(rt, FRIDAY, 15, 0))
    # Friday's slots are over at 15:00; 8-15 March are Nyepi, Idul Fitri and cuti bersama.
    assert days[0] == AFTER_LEBARAN


def test_codes_forgive_case_spaces_and_dashes():
    assert normalize_code("k7q-m4p") == "K7QM4P"
    assert normalize_code(" k7 qm 4p ") == "K7QM4P"
    assert normalize_code("K7QM40") is None  # 0 is never in a code
    assert normalize_code("K7QM4") is None


# --- seats under concurrency --------------------------------------------------------------


def _book_many(rt, people: list[tuple[int, str | None]]) -> list[str]:  # noqa: ANN001
    """Everyone books the same slot at once, each on their own connection and thread."""
    outcomes: list[str] = []
    barrier = threading.Barrier(len(people))
    lock = threading.Lock()

    def attempt(user_id: int, reason: str | None) -> None:
        barrier.wait()
        try:
            with rt.db.session() as s:
                booking = book(s, rt, user_id=user_id, language="id", service_id="kia",
                               day=MONDAY, start="10:00", priority_reason=reason,
                               now=at(rt, MONDAY, 7, 0))
                outcome = booking.seat
        except QueueError:
            outcome = "full"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=person) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
def test_concurrent_bookings_never_overbook_on_postgres(postgres_url):
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_url).dispose()
    rt = runtime(postgres_url)
    # kia: 4 seats a slot, 1 kept for priority. 16 regular and 4 priority visitors race.
    people = [(100 + n, "pregnant" if n % 5 == 0 else None) for n in range(20)]
    outcomes = _book_many(rt, people)
    assert sorted(outcomes).count("full") == 16
    assert outcomes.count("priority") == 1 and outcomes.count("regular") == 3
    with rt.db.session() as s:
        slot = s.get(QueueSlot, ("kia", MONDAY, "10:00"))
        assert (slot.taken_regular, slot.taken_priority) == (3, 1)
        assert len(s.exec(select(QueueBooking)).all()) == 4
        assert rooms(s, rt, "kia", MONDAY, at(rt, MONDAY, 7, 0), priority=True)[0].start \
            == "08:00"
    rt.db.dispose()


def test_a_priority_visitor_gets_a_regular_seat_when_the_priority_ones_are_gone(rt):
    now = at(rt, MONDAY, 7, 0)
    with rt.db.session() as s:
        seats = [
            book(s, rt, user_id=200 + n, language="id", service_id="kia", day=MONDAY,
                 start="10:00", priority_reason="elderly", now=now).seat
            for n in range(4)
        ]
        assert seats == ["priority", "regular", "regular", "regular"]
        with pytest.raises(QueueError):
            book(s, rt, user_id=299, language="id", service_id="kia", day=MONDAY,
                 start="10:00", priority_reason="elderly", now=now)


# --- calling ------------------------------------------------------------------------------


def _fill_line(rt, now) -> dict[str, int]:  # noqa: ANN001
    """Bookings and walk-ins for ktp-el (counters 1-4), checked in at ``now``."""
    ids = {}
    with rt.db.session() as s:
        for user_id, start, reason in ((1, "09:00", None), (2, "08:30", None),
                                       (3, "10:00", "toddler")):
            booking = book(s, rt, user_id=user_id, language="id", service_id="ktp-el",
                           day=MONDAY, start=start, priority_reason=reason,
                           now=at(rt, MONDAY, 7, 0))
            ids[start] = booking.id
        s.flush()
        walk, _ = counter.walk_in(s, rt, service_id="ktp-el", priority_reason=None, now=now)
        ids["walk-in"] = walk.id
    for start in ("09:00", "08:30", "10:00"):
        with rt.db.session() as s:
            code = s.get(QueueBooking, ids[start]).code
            counter.check_in(s, rt, code=code, now=now)
    return ids


def test_priority_first_then_bookings_by_slot_then_walk_ins(rt):
    now = at(rt, MONDAY, 8, 0)
    TestClock(rt, now)
    ids = _fill_line(rt, now)
    with rt.db.session() as s:
        counter.set_desk(s, rt, officer_id=77, counter="3")
    called = []
    for _ in range(5):
        with rt.db.session() as s:
            booking = counter.call_next(s, rt, officer_id=77, now=now)
            called.append(booking.id if booking else None)
            if booking:
                counter.done(s, rt, officer_id=77, now=now)
    assert called == [ids["10:00"], ids["08:30"], ids["09:00"], ids["walk-in"], None]


@pytest.mark.postgres
def test_four_officers_calling_at_once_never_share_a_citizen(postgres_url):
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_url).dispose()
    rt = runtime(postgres_url)
    now = at(rt, MONDAY, 8, 0)
    with rt.db.session() as s:
        for _ in range(40):
            counter.walk_in(s, rt, service_id="ktp-el", priority_reason=None, now=now)
        for officer in range(4):
            counter.set_desk(s, rt, officer_id=500 + officer, counter=str(officer + 1))
    calls: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def officer(officer_id: int) -> None:
        barrier.wait()
        while True:
            with rt.db.session() as s:
                booking = counter.call_next(s, rt, officer_id=officer_id, now=now)
                if booking is None:
                    return
                with lock:
                    calls.append(booking.id)

    threads = [threading.Thread(target=officer, args=(500 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 40 and len(set(calls)) == 40
    with rt.db.session() as s:
        statuses = {b.status for b in s.exec(select(QueueBooking)).all()}
    assert statuses == {CALLED}
    rt.db.dispose()
