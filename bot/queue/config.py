"""The ``queue:`` section of office.yaml: which services take bookings, seats per slot, slot
length, booking hours, the priority share and the rules at the counter.

Self-contained (no import of bot.knowledge), because the office model embeds it.
"""

from __future__ import annotations

import math
import re
from datetime import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CALL_KINDS = ("priority", "booked", "walkin")
PRIORITY_REASONS = ("elderly", "disability", "pregnant", "toddler")
_RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")
_COUNTER_RE = re.compile(r"^[A-Za-z0-9]{1,8}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ranges(value: Any) -> list[tuple[time, time]]:
    if value is None or value == "closed" or value == []:
        return []
    ranges = []
    for item in value if isinstance(value, list) else [value]:
        found = _RANGE_RE.match(item.strip()) if isinstance(item, str) else None
        if not found:
            raise PydanticCustomError(
                "time_range", "write booking hours as \"08:00-14:30\" in quotes, or closed"
            )
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if (h2, m2) <= (h1, m1):
            raise PydanticCustomError("time_range", "the end must be after the start")
        ranges.append((time(h1, m1), time(h2, m2)))
    return ranges


class QueueService(_Model):
    """One service that takes bookings: seats per slot and the counters that serve it."""

    quota: int = Field(ge=1, le=500)
    counters: list[str] = Field(min_length=1)

    @field_validator("counters", mode="before")
    @classmethod
    def _counters(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            text = str(item).strip() if isinstance(item, int | str) else ""
            span = re.fullmatch(r"(\d{1,3})\s*-\s*(\d{1,3})", text)
            if span and int(span[1]) < int(span[2]):
                out += [str(n) for n in range(int(span[1]), int(span[2]) + 1)]
            elif _COUNTER_RE.match(text):
                out.append(text.upper())  # "b2" and "B2" are one counter
            else:
                raise PydanticCustomError(
                    "counter", "a counter is a short number or code (e.g. 4, B2), a range "
                    "such as 1-4, or a list of them"
                )
        return out

    def counters_label(self) -> str:
        """"1-4" for a run of numbers, else the counters joined with commas."""
        numbers = [int(c) for c in self.counters if c.isdigit()]
        if len(numbers) == len(self.counters) > 1 and numbers == list(
            range(numbers[0], numbers[0] + len(numbers))
        ):
            return f"{numbers[0]}-{numbers[-1]}"
        return ", ".join(self.counters)


class QueueConfig(_Model):
    """Validated ``queue:`` section; see docs/knowledge-base.md."""

    slot_minutes: int = Field(default=30, ge=5, le=240)
    # Booking hours per weekday; a weekday left out follows the office's opening hours.
    hours: dict[str, list[tuple[time, time]]] = Field(default_factory=dict)
    days_ahead: int = Field(default=10, ge=1, le=60)
    priority_share: int = Field(default=20, ge=0, le=100)  # percent of each slot's seats
    grace_minutes: int = Field(default=10, ge=1, le=120)
    near_notice: int = Field(default=3, ge=1, le=20)
    checkin_radius_m: int = Field(default=150, ge=10, le=5000)
    call_order: list[str] = Field(default_factory=lambda: list(CALL_KINDS))
    remind_evening: time = time(18, 0)
    remind_morning: time = time(7, 0)
    services: dict[str, QueueService] = Field(min_length=1)

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise PydanticCustomError("hours", "expected weekday: \"08:00-14:30\" lines")
        out = {}
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise PydanticCustomError(
                    "weekday", "unknown weekday '{day}'; use one of: {days}",
                    {"day": day, "days": ", ".join(WEEKDAYS)},
                )
            out[day] = _ranges(ranges)
        return out

    @field_validator("remind_evening", "remind_morning", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML reads 18:00 unquoted as sexagesimal 1080
            return time(value // 60 % 24, value % 60)
        return value

    @field_validator("call_order")
    @classmethod
    def _order(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(CALL_KINDS):
            raise PydanticCustomError(
                "call_order", "list each of {kinds} once, in the order they are called",
                {"kinds": ", ".join(CALL_KINDS)},
            )
        return value

    @model_validator(mode="after")
    def _slot_fits(self) -> QueueConfig:
        for day, ranges in self.hours.items():
            for start, end in ranges:
                minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
                if minutes < self.slot_minutes:
                    raise PydanticCustomError(
                        "slot", "{day}: the booking hours are shorter than one slot "
                        "({n} minutes)", {"day": day, "n": self.slot_minutes},
                    )
        return self

    def priority_seats(self, quota: int) -> int:
        """The seats of a slot kept for priority visitors (rounded up: a share above zero
        always keeps at least one)."""
        return min(quota, math.ceil(quota * self.priority_share / 100))
