"""Checks on what comes in over HTTP (the webhook and the back-office API) before anything
trusts it: JSON that Python cannot read safely, ids that are not Telegram ids, text that a
database refuses. A failed check is the sender's fault: a 400 or 422, never a 500."""

from __future__ import annotations

import json
from typing import Any

# Telegram ids (updates, users, chats, messages) fit a signed 64-bit integer; the database
# columns are BIGINT.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1

# Objects of an update whose "id" is a user's or a chat's (numbers); a callback query's or an
# inline query's own "id" is a string and is not checked.
_PERSON_OR_CHAT = frozenset(
    {
        "chat", "from", "user", "sender_chat", "forward_from", "forward_from_chat", "via_bot",
        "left_chat_member", "new_chat_members", "old_chat_member", "new_chat_member",
    }
)
# Ids outside those objects that are numbers too.
_NUMBER_KEYS = frozenset({"message_id", "update_id", "chat_id", "user_id"})


class BadJson(ValueError):
    """The body cannot be read as JSON; the message says why, for the 400."""


def read_json(body: bytes) -> Any:
    """JSON from a request body; BadJson for anything Python's reader chokes on: broken
    syntax or encoding, nesting deeper than the interpreter's recursion (RecursionError), a
    number of more than 4,300 digits (ValueError since Python 3.11)."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadJson("body is not UTF-8") from None
    except json.JSONDecodeError:
        raise BadJson("body is not JSON") from None
    except RecursionError:
        raise BadJson("JSON nested too deeply") from None
    except ValueError:
        raise BadJson("a number in the JSON is too long") from None


def is_telegram_id(value: Any) -> bool:
    """An integer (not a boolean, which Python counts as one) within 64 bits."""
    return type(value) is int and _ID_MIN <= value <= _ID_MAX


def unusable_ids(payload: Any) -> str | None:
    """Why an update can never be handled (a user or chat id that is not a Telegram id, as
    ``chat.id: "x"``), or None. Telegram never sends such ids; a forged or broken update would
    otherwise fail on every try."""
    try:
        return _unusable_ids(payload, "update")
    except RecursionError:
        return "update nested too deeply"


def _unusable_ids(payload: Any, where: str) -> str | None:
    if isinstance(payload, list):
        for index, item in enumerate(payload):
            reason = _unusable_ids(item, f"{where}[{index}]")
            if reason:
                return reason
        return None
    if not isinstance(payload, dict):
        return None
    for key, value in payload.items():
        path = f"{where}.{key}"
        if key in _NUMBER_KEYS and not is_telegram_id(value):
            return f"{path} is not an integer id"
        if key in _PERSON_OR_CHAT:
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, dict) or not is_telegram_id(item.get("id")):
                    return f"{path}.id is not an integer id"
        reason = _unusable_ids(value, path)
        if reason:
            return reason
    return None


def control_characters(text: str) -> bool:
    """Whether text holds a control character other than tab and line breaks (NUL, which
    PostgreSQL refuses in text, escape sequences, ...)."""
    return any(
        (ord(char) < 32 and char not in "\t\n\r") or 0x7F <= ord(char) < 0xA0 for char in text
    )
