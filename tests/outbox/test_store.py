"""The outbox: a dedupe key queues once; claims take one message per chat, in order."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.models import utcnow
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue


def test_outbox_dedupe_key_queues_once(db):
    with db.session() as s:
        first = enqueue(s, chat_id=7, text="hi", dedupe_key="survey:1")
        second = enqueue(s, chat_id=7, text="hi again", dedupe_key="survey:1")
        assert first.id == second.id
    with db.session() as s:
        rows = s.exec(select(OutboxMessage)).all()
        assert len(rows) == 1
        assert rows[0].payload == {"text": "hi", "parse_mode": "HTML"}
        assert rows[0].not_before.tzinfo is not None


def test_claims_take_one_message_per_chat_in_order(db):
    from bot.outbox.store import CHAT_GAP, claim_due, mark_sent

    with db.session() as s:
        first = enqueue(s, chat_id=1, text="first")
        second = enqueue(s, chat_id=1, text="second")
        other = enqueue(s, chat_id=2, text="other chat")
        later = enqueue(s, chat_id=1, text="tomorrow", not_before=utcnow() + timedelta(days=1))
    with db.session() as s:
        claimed = claim_due(s, worker_id="a", limit=10)
        assert [r.id for r in claimed] == [first.id, other.id]
    with db.session() as s:
        # The first message is still in flight: another sender must not overtake it.
        assert claim_due(s, worker_id="b", limit=10) == []
        sent_at = utcnow()
        mark_sent(s, claimed[0], now=sent_at)
    with db.session() as s:
        # Telegram's second between two messages to one chat, whichever sender sends next.
        half = sent_at + CHAT_GAP / 2
        assert claim_due(s, worker_id="b", limit=10, now=half) == []
    with db.session() as s:
        after = sent_at + CHAT_GAP + timedelta(milliseconds=1)
        assert [r.id for r in claim_due(s, worker_id="b", limit=10, now=after)] == [second.id]
    assert later.id not in (first.id, second.id, other.id)
