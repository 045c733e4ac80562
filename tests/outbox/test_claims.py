"""Outbox claims without Telegram: exactly-once claims, retries, unreachable users."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from sqlmodel import select

from bot.core.db import Database
from bot.core.models import User, utcnow
from bot.outbox.models import OutboxMessage
from bot.outbox.store import (
    CLAIM_RENEW,
    CLAIM_TTL,
    MAX_ATTEMPTS,
    UNREACHABLE_REASON,
    backoff_for,
    claim_due,
    enqueue,
    mark_retry,
    mark_sent,
    mark_unreachable,
    outbox_counts,
    record_sent,
    renew_claim,
)
from bot.people.users import user_language


def _queue(db: Database, count: int, *, chat_id: int = 100, not_before=None) -> None:
    with db.session() as s:
        for i in range(count):
            enqueue(s, chat_id=chat_id + i, text=f"m{i}", not_before=not_before)


def test_only_due_rows_are_claimed_and_only_once(db):
    _queue(db, 3)
    now = utcnow()
    _queue(db, 2, chat_id=500, not_before=now + timedelta(hours=1))
    with db.session() as s:
        first = claim_due(s, worker_id="a", limit=10, now=now)
    with db.session() as s:
        second = claim_due(s, worker_id="b", limit=10, now=now)
    assert sorted(r.chat_id for r in first) == [100, 101, 102]
    assert second == []
    with db.session() as s:
        assert all(mark_sent(s, row, now=now) for row in first)
    with db.session() as s:
        later = claim_due(s, worker_id="b", limit=10, now=now + timedelta(hours=2))
    assert sorted(r.chat_id for r in later) == [500, 501]


def test_a_stale_claim_is_taken_over(db):
    _queue(db, 1)
    now = utcnow()
    with db.session() as s:
        (crashed,) = claim_due(s, worker_id="dead", limit=5, now=now)
    with db.session() as s:
        assert claim_due(s, worker_id="live", limit=5, now=now + CLAIM_TTL / 2) == []
    with db.session() as s:
        (taken,) = claim_due(s, worker_id="live", limit=5, now=now + CLAIM_TTL * 2)
        assert taken.id == crashed.id
        assert mark_sent(s, taken, now=now)
    with db.session() as s:
        # The crashed worker's late settle must not overwrite the new owner's outcome.
        assert not mark_sent(s, crashed, now=now)
        assert outbox_counts(s) == {"sent": 1}


def test_the_senders_record_settles_only_a_row_it_still_holds(db):
    """record_sent, the sender's one-statement mark_sent on the bookkeeping connection."""
    _queue(db, 1)
    now = utcnow()
    with db.session() as s:
        (crashed,) = claim_due(s, worker_id="dead", limit=5, now=now)
    with db.session() as s:
        (taken,) = claim_due(s, worker_id="live", limit=5, now=now + CLAIM_TTL * 2)
    assert not record_sent(db, crashed, now=now)
    assert record_sent(db, taken, now=now + CLAIM_TTL * 2)
    with db.session() as s:
        row = s.get(OutboxMessage, taken.id)
        assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)
        assert row.sent_at == now + CLAIM_TTL * 2
        assert outbox_counts(s) == {"sent": 1}


def test_a_renewed_claim_is_kept_and_taken_over_once_renewals_stop(db):
    _queue(db, 2)
    now = utcnow()
    with db.session() as s:
        held = claim_due(s, worker_id="slow", limit=5, now=now)
    token = held[0].claimed_by
    assert {row.claimed_by for row in held} == {token}
    step = CLAIM_RENEW
    with db.session() as s:
        assert renew_claim(s, token, now=now + step) == 2
    with db.session() as s:
        assert renew_claim(s, token, now=now + 2 * step) == 2
        assert mark_sent(s, held[0], now=now + 2 * step)
    # Past the TTL of the first claim, not of the last renewal: still held.
    with db.session() as s:
        assert claim_due(s, worker_id="other", limit=5, now=now + CLAIM_TTL + step) == []
    # The sender died after its last renewal: its remaining row goes to another sender.
    with db.session() as s:
        (taken,) = claim_due(s, worker_id="other", limit=5, now=now + 2 * step + CLAIM_TTL * 2)
    assert taken.id == held[1].id
    with db.session() as s:
        assert renew_claim(s, token, now=now + 3 * step) == 0  # no longer the dead one's


async def test_a_sender_renews_the_claim_of_the_batch_in_hand(db, monkeypatch):
    import handlers.outbox_delivery as sender

    monkeypatch.setattr(sender, "CLAIM_RENEW", timedelta(seconds=0.05))
    _queue(db, 1)
    now = utcnow()
    with db.session() as s:
        (row,) = claim_due(s, worker_id="live", limit=1, now=now)
    runtime = type("Rt", (), {"db": db})()
    renewing = asyncio.create_task(
        sender._keep_claimed(runtime, row.claimed_by, sender._Clock(now + CLAIM_TTL))
    )
    await asyncio.sleep(0.3)
    renewing.cancel()
    with db.session() as s:
        # Renewed on the (moved) clock: not stale at a moment past the first claim's TTL.
        assert claim_due(s, worker_id="other", limit=1, now=now + CLAIM_TTL * 1.5) == []


def test_two_claimers_at_once_take_each_row_exactly_once(database_url):
    seed = Database(database_url)
    _queue(seed, 300)
    seed.dispose()
    taken: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        db = Database(database_url)
        try:
            while True:
                with db.session() as s:
                    rows = claim_due(s, worker_id=name, limit=7)
                if not rows:
                    return
                with db.session() as s:
                    for row in rows:
                        assert mark_sent(s, row)
                taken[name].extend(r.id for r in rows)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    all_ids = taken["a"] + taken["b"]
    assert len(all_ids) == 300
    assert len(set(all_ids)) == 300


def test_retries_back_off_then_fail_after_the_bound(db):
    _queue(db, 1)
    now = utcnow()
    statuses = []
    for attempt in range(MAX_ATTEMPTS):
        with db.session() as s:
            (row,) = claim_due(s, worker_id="w", limit=1, now=now)
            statuses.append(mark_retry(s, row, error="TimedOut: slow network", now=now))
        with db.session() as s:
            stored = s.exec(select(OutboxMessage)).one()
            if statuses[-1] == "pending":
                assert stored.not_before == now + backoff_for(attempt + 1)
                now = stored.not_before
    assert statuses == ["pending"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert backoff_for(1) < backoff_for(2) < backoff_for(3)
    with db.session() as s:
        stored = s.exec(select(OutboxMessage)).one()
        assert (stored.status, stored.attempts) == ("failed", MAX_ATTEMPTS)
        assert "TimedOut" in stored.last_error
        assert claim_due(s, worker_id="w", limit=1, now=now + timedelta(days=1)) == []


def test_a_user_who_blocked_the_bot_gets_nothing_more(db):
    user_language(db, telegram_id=42, language_code="id")
    with db.session() as s:
        enqueue(s, chat_id=42, text="one")
        enqueue(s, chat_id=42, text="two")
        enqueue(s, chat_id=43, text="other")
    with db.session() as s:
        rows = claim_due(s, worker_id="w", limit=1)
        assert [r.payload["text"] for r in rows] == ["one"]
        assert mark_unreachable(s, rows[0]) == 1  # "two" dropped with it
    with db.session() as s:
        assert s.get(User, 42).unreachable_since is not None
        enqueue(s, chat_id=42, text="three")
    with db.session() as s:
        rows = claim_due(s, worker_id="w", limit=10)
        assert [r.chat_id for r in rows] == [43]
        dropped = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 42)).all()
        assert {(r.status, r.last_error) for r in dropped} == {("dropped", UNREACHABLE_REASON)}
    # Writing to the bot again means they unblocked it.
    assert user_language(db, telegram_id=42, language_code="en") == "id"
    with db.session() as s:
        assert s.get(User, 42).unreachable_since is None
