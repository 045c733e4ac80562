"""Working-day arithmetic around real Indonesian holidays and joint leave."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.workdays import WorkingCalendar

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(JAKARTA)


def test_weekend_is_skipped(cal):
    # Friday 2026-11-20 + 1 working day -> Monday 2026-11-23
    assert cal.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)


def test_idul_fitri_and_joint_leave_2026(cal):
    # 2026: cuti bersama 20 and 23-24 March, Idul Fitri 21-22 March (weekend).
    for day in (date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24)):
        assert not cal.is_working_day(day)
    # Thursday 19 March is Nyepi; Wednesday 18 is its joint leave. From Tuesday 17 March,
    # 1 working day is Wednesday 25 March.
    assert cal.add_working_days(date(2026, 3, 17), 1) == date(2026, 3, 25)
    assert cal.add_working_days(date(2026, 3, 17), 3) == date(2026, 3, 27)


def test_year_end(cal):
    # 24 Dec joint leave, 25 Dec Christmas, 26-27 weekend, 1 Jan new year.
    assert cal.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_office_closed_dates(cal):
    office = WorkingCalendar(JAKARTA, closed_dates=[date(2026, 11, 24)])
    assert office.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)
    assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_received_on_a_holiday_starts_next_working_day(cal):
    # Received Saturday: Monday is day 1.
    assert cal.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert cal.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 23)


def test_due_at_is_end_of_local_day_in_utc(cal):
    received = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 WIB
    due = cal.due_at(received, 3, "working_days")
    assert due == datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)  # Wed 23:59:59 WIB
    assert cal.due_at(received, 2, "days").astimezone(JAKARTA).date() == date(2026, 11, 22)
    assert cal.due_at(received, 5, "hours") == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_working_days_between(cal):
    assert cal.working_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 2
    assert cal.working_days_between(date(2026, 11, 24), date(2026, 11, 20)) == 0
