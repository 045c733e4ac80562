"""Fixed moments the tests set their clocks to."""

from __future__ import annotations

from datetime import UTC, datetime

import bot.applications.privacy  # noqa: F401 - its registrations are under test
import bot.complaints.privacy  # noqa: F401 - its registrations are under test
import bot.surveys.privacy  # noqa: F401 - its registrations are under test

NOON = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)
