"""The office's working-day calendar: weekends, national holidays, joint leave, local closures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

UNITS = ("working_days", "days", "hours")


class WorkingCalendar:
    """Answers 'is this a working day' and 'when is N working days after this moment'.

    Indonesia's national holidays and the joint-leave days (cuti bersama, the ``government``
    category of the ``holidays`` package) are closed, as are the office's own ``closed_dates``.
    """

    def __init__(
        self,
        tz: ZoneInfo,
        *,
        closed_dates: Iterable[date] = (),
        weekend: Iterable[int] = (5, 6),
    ) -> None:
        self.tz = tz
        self.closed_dates = frozenset(closed_dates)
        self.weekend = frozenset(weekend)
        self._holidays = holidays.country_holidays(
            "ID", categories=("public", "government"), language="id"
        )

    def holiday_name(self, day: date) -> str | None:
        if day in self.closed_dates:
            return "closed"
        return self._holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.closed_dates
            and day not in self._holidays
        )

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day``; 0 means the same day (or the next
        working day when ``day`` is closed)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = self.next_working_day(day)
        if current != day and count > 0:
            # Handed in on a closed day: the clock starts on the next working day, which is day 1.
            count -= 1
        while count > 0:
            current = self.next_working_day(current + timedelta(days=1))
            count -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        days, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                days += 1
        return days

    def due_at(self, received_at: datetime, amount: int, unit: str) -> datetime:
        """When a service with duration ``amount unit`` received at ``received_at`` is due (UTC).

        Working days and days end at the close of the local day; hours are counted on the clock.
        """
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        if unit == "hours":
            return (received_at + timedelta(hours=amount)).astimezone(UTC)
        local_day = received_at.astimezone(self.tz).date()
        if unit == "working_days":
            due_day = self.add_working_days(local_day, amount)
        elif unit == "days":
            due_day = local_day + timedelta(days=amount)
        else:
            raise ValueError(f"unknown duration unit {unit!r}; expected one of {UNITS}")
        end_of_day = datetime.combine(due_day, time(23, 59, 59), tzinfo=self.tz)
        return end_of_day.astimezone(UTC)

    def add_working_days_at(self, moment: datetime, count: int) -> datetime:
        """``moment`` moved forward by ``count`` working days, keeping the local time of day."""
        local = moment.astimezone(self.tz)
        day = self.add_working_days(local.date(), count)
        moved = datetime.combine(day, local.time(), tzinfo=self.tz)
        return moved.astimezone(UTC)
