"""Helpers of the queue tests: a fixed clock for the bot, and moments in office time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


class TestClock:
    """The queue's clock for a test: starts at a set moment, moves only when told to."""

    __test__ = False  # not a test class

    def __init__(self, rt: Any, moment: datetime) -> None:
        self.rt = rt
        self.moment = moment
        rt.clock = self

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


def at(rt: Any, day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in office time on ``day``, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=rt.tz).astimezone(UTC)


# Dates after the real clock, so the bot's own background jobs (ticking on real time) leave
# them alone. After Friday 5 March 2027 come Nyepi, Idul Fitri and its joint leave days
# (8-15 March): the next working day is Tuesday the 16th.
FRIDAY = date(2027, 3, 5)
AFTER_LEBARAN = date(2027, 3, 16)
MONDAY = date(2027, 3, 22)
TUESDAY = date(2027, 3, 23)
