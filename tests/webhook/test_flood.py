"""Flood control: one notice, then silence until the user calms down; counted once per update."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.webhook.flood import FloodCount, flood_verdict, prune_flood_counts
from bot.webhook.store import (
    ProcessedUpdate,
    admit_update,
)
from tests.support.moments import NOON

# --- flood control --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["session", "count only", "claim and count"])
def test_flood_control_notifies_once_then_stays_silent_until_calm(db, path):
    """The same rule through each way in: the session helper, and admit_update counting an
    update already taken or claiming and counting it at once (one statement on PostgreSQL)."""
    update_ids = iter(range(1000, 2000))

    def verdict(now: datetime) -> str:
        if path == "session":
            with db.session() as s:
                return flood_verdict(s, user_id=9, limit=3, now=now)
        update_id = next(update_ids) if path == "claim and count" else None
        return admit_update(db, update_id, user_id=9, flood_limit=3, now=now)

    def verdicts(now: datetime, n: int) -> list[str]:
        return [verdict(now) for _ in range(n)]

    assert verdicts(NOON, 6) == ["ok", "ok", "ok", "notify", "silent", "silent"]
    # Still flooding in the next minute: no second notice.
    assert verdicts(NOON + timedelta(minutes=1), 5) == ["ok", "ok", "ok", "silent", "silent"]
    # A calm minute (three messages), then flooding again: one notice again.
    assert verdicts(NOON + timedelta(minutes=2), 3) == ["ok"] * 3
    assert verdicts(NOON + timedelta(minutes=3), 5) == ["ok", "ok", "ok", "notify", "silent"]
    # Another user is counted apart.
    with db.session() as s:
        assert flood_verdict(s, user_id=10, limit=3, now=NOON + timedelta(minutes=3)) == "ok"
        assert prune_flood_counts(s, now=NOON + timedelta(minutes=3)) == 2
        assert {r.minute for r in s.exec(select(FloodCount)).all()} == {
            int((NOON + timedelta(minutes=m)).timestamp() // 60) for m in (2, 3)
        }


def test_flood_limit_zero_turns_it_off(db):
    with db.session() as s:
        assert {flood_verdict(s, user_id=9, limit=0, now=NOON) for _ in range(50)} == {"ok"}
    assert {admit_update(db, n, user_id=9, flood_limit=0, now=NOON) for n in range(50)} == {"ok"}
    assert admit_update(db, None, user_id=9, flood_limit=0, now=NOON) == "ok"
    with db.session() as s:
        assert s.exec(select(FloodCount)).all() == []
        assert len(s.exec(select(ProcessedUpdate)).all()) == 50


def test_a_duplicate_update_is_not_counted_for_flood_control(db):
    assert admit_update(db, 5, user_id=9, flood_limit=1, now=NOON) == "ok"
    for _ in range(3):
        assert admit_update(db, 5, user_id=9, flood_limit=1, now=NOON) == "duplicate"
    # The redeliveries did not count: the user's second real update is the first over.
    assert admit_update(db, 6, user_id=9, flood_limit=1, now=NOON) == "notify"
    assert admit_update(db, 7, user_id=None, flood_limit=1, now=NOON) == "ok"
