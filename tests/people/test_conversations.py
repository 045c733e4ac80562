"""Conversation state kept in the database: a round trip, and a stale one forgotten."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.models import ConversationState, utcnow
from bot.people.conversations import clear_state, get_state, set_state


def test_conversation_state_round_trip(db):
    with db.session() as s:
        set_state(s, chat_id=5, user_id=5, flow="demo", step="one", data={"a": 1})
    with db.session() as s:
        state = get_state(s, chat_id=5, user_id=5)
        assert (state.flow, state.step, state.data) == ("demo", "one", {"a": 1})
        set_state(s, chat_id=5, user_id=5, flow="demo", step="two", data={**state.data, "b": 2})
    with db.session() as s:
        assert get_state(s, chat_id=5, user_id=5).data == {"a": 1, "b": 2}
        clear_state(s, chat_id=5, user_id=5)
    with db.session() as s:
        assert get_state(s, chat_id=5, user_id=5) is None


def test_stale_conversation_is_forgotten(db):
    with db.session() as s:
        state = set_state(s, chat_id=1, user_id=1, flow="demo", step="one")
        state.updated_at = utcnow() - timedelta(days=2)
    with db.session() as s:
        assert get_state(s, chat_id=1, user_id=1) is None
    with db.session() as s:
        assert s.exec(select(ConversationState)).all() == []
