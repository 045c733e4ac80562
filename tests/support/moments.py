"""Fixed moments the tests set their clocks to."""

from __future__ import annotations

from datetime import UTC, datetime

NOON = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)
