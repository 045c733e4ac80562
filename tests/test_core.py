"""Core plumbing: configuration errors, migrations, conversation state, outbox idempotence."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import ConfigError, load_settings
from bot.conversations import clear_state, get_state, set_state
from bot.models import ConversationState, OutboxMessage, utcnow
from bot.outbox import enqueue
from bot.text import split_message


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, env, name):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"{name}:")


def test_bad_setting_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "TIMEZONE": "Nowhere/Land", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "TIMEZONE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_admin_ids_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ADMIN_IDS", " 11, 22 ,33")
    assert load_settings().admin_ids == [11, 22, 33]


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


def test_split_message_keeps_lines_whole():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(200))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith("\n") for p in parts[:-1])  # cut only at line breaks
    assert "".join(parts) == text


def test_savepoint_first_in_a_transaction_rolls_back_with_it(db):
    from bot.models import User

    with pytest.raises(RuntimeError):
        with db.session() as s:
            with s.begin_nested():
                s.add(User(telegram_id=42))
            raise RuntimeError("the unit of work fails after the savepoint")
    with db.session() as s:
        assert s.get(User, 42) is None


def test_claims_take_one_message_per_chat_in_order(db):
    from bot.outbox import claim_due, mark_sent

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
        mark_sent(s, claimed[0])
    with db.session() as s:
        assert [r.id for r in claim_due(s, worker_id="b", limit=10)] == [second.id]
    assert later.id not in (first.id, second.id, other.id)
