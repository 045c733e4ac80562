"""The development dialogues (../shared/eval/dev-dialogues.jsonl) through the real bot on the
emulator, each turn checked the way the project's scorer checks it (../shared/eval/README.md)."""

from __future__ import annotations

import json
import re

import pytest

from bot.core.config import PROJECT_ROOT

DIALOGUES = PROJECT_ROOT.parent / "shared" / "eval" / "dev-dialogues.jsonl"
OFFICERS = -100777  # the officers' group: "not understood" then offers to ask an officer


def _dialogues() -> list:
    if not DIALOGUES.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {DIALOGUES}"))]
    params = []
    for line in DIALOGUES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            dialogue = json.loads(line)
            params.append(pytest.param(dialogue, id=dialogue["id"]))
    return params


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def _turn_ok(turn: dict, text: str, buttons: str) -> bool:
    text = _norm(text)
    ok = True
    if turn.get("want_button_any"):
        ok &= any(_norm(w) in _norm(buttons) for w in turn["want_button_any"])
    if turn.get("abstain"):
        return ok and bool(text) and not re.search(r"rp\s?\d", text) and "loket" not in text \
            and "counter" not in text
    if turn.get("want_any"):
        ok &= any(_norm(w) in text for w in turn["want_any"])
    if turn.get("want_all"):
        ok &= all(_norm(w) in text for w in turn["want_all"])
    return ok


@pytest.mark.parametrize("dialogue", _dialogues())
async def test_dev_dialogue(tmp_path, make_bot, dialogue):
    bot_sqlite = await make_bot(f"sqlite:///{tmp_path}/bot.db", officers_chat_id=OFFICERS)
    citizen = bot_sqlite.user(4000, language_code=dialogue["lang"])
    for turn in dialogue["turns"]:
        seen = {m.message_id for m in citizen.messages()}
        await citizen.send(turn["say"])
        await bot_sqlite.settle()
        new = [m for m in citizen.messages() if m.message_id not in seen]
        assert new, turn["say"]
        text = "\n".join(
            " ".join(str(part or "") for part in (
                m.text, (m.venue or {}).get("title"), (m.venue or {}).get("address")))
            for m in new
        )
        buttons = " | ".join(label for m in new for label in m.labels)
        if any(k in turn for k in ("want_any", "want_all", "abstain", "want_button_any")):
            assert _turn_ok(turn, text, buttons), f"{turn['say']!r}: {text[:300]!r}"
