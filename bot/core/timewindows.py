"""Daily time windows in office time (quiet hours), a value object shared by the settings
validator and every feature that sends on its own initiative."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """A daily window in office time when the bot sends nothing on its own initiative."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> QuietHours | None:
        """``"21:00-07:00"``; empty or ``off`` means no quiet hours."""
        text = text.strip().lower()
        if text in ("", "off", "none"):
            return None
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)", text)
        if match is None:
            raise ValueError("must look like 21:00-07:00 (or off)")
        h1, m1, h2, m2 = map(int, match.groups())
        if (h1, m1) == (h2, m2):
            raise ValueError("start and end are the same; write off to disable quiet hours")
        return cls(time(h1, m1), time(h2, m2), tz)

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself, or the end of the quiet window it falls in."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.tz)
        end = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return end.astimezone(moment.tzinfo)
