"""The webhook's answer: the last message of an update, given back to Telegram in the answer to
the webhook request that brought it (see bot/webhook/journal.py for why).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.telegram_rules.html import EntityParseError, parse_html, strip_text, utf16_len
from bot.telegram_rules.limits import CALLBACK_DATA_LIMIT, TEXT_LIMIT

log = logging.getLogger(__name__)


# A held message that Telegram answers 429 is tried again after its wait, this many times.
RELEASE_ATTEMPTS = 4
MAX_RETRY_WAIT = 30.0


class WebhookAnswer:
    """The webhook request that brought an update, waiting for what to answer Telegram with:
    nothing, or the update's last message (bot/webhook/server.py waits on ``ready``)."""

    def __init__(self) -> None:
        self.waiting = True
        self.body: dict[str, Any] | None = None
        self.ready = asyncio.Event()

    def give(self, body: dict[str, Any]) -> None:
        self.body, self.waiting = body, False
        self.ready.set()

    def done(self) -> None:
        self.waiting = False
        self.ready.set()

    def close(self) -> dict[str, Any] | None:
        """The request stops waiting (its time is up): what was given, if anything."""
        self.waiting = False
        return self.body


@dataclass
class Held:
    """A message kept back for the webhook's answer: its journal key, parameters, the stand-in
    response the handler got, and how to send it as a call after all."""

    key: str
    params: dict[str, Any]
    stand_in: bytes
    send: Callable[[], Awaitable[tuple[int, bytes]]]


def stand_in_response(params: dict[str, Any]) -> bytes:
    """What the handler gets for a held message: a Message as Telegram would return it, with the
    message id 0 (not known until it is sent)."""
    chat_id = params["chat_id"]
    chat_type = "private"
    if isinstance(chat_id, int) and chat_id < 0:
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
    message = {
        "message_id": 0,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type},
        "text": params.get("text", ""),
    }
    return json.dumps({"ok": True, "result": message}, ensure_ascii=False).encode()


# Parameters of a sendMessage that can go in a webhook answer; anything else goes as a call.
_ANSWER_PARAMS = frozenset(
    {
        "chat_id", "text", "parse_mode", "reply_markup", "link_preview_options",
        "disable_web_page_preview", "disable_notification", "protect_content",
        "message_thread_id",
    }
)


def fits_webhook_answer(params: dict[str, Any]) -> bool:
    """Whether Telegram will surely take this sendMessage: plain parameters, a text within the
    limit, HTML that Telegram's parser accepts, buttons within their limits. Strict on purpose:
    what fails here is only sent as a call."""
    if not params.keys() <= _ANSWER_PARAMS or not isinstance(params.get("chat_id"), int | str):
        return False
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        return False
    parse_mode = params.get("parse_mode")
    if parse_mode is None:
        length: int | None = utf16_len(text)
    elif parse_mode == "HTML":
        length = telegram_html_length(text)
    else:
        return False
    if length is None or length > TEXT_LIMIT:
        return False
    return _markup_fits(params.get("reply_markup"))


def _markup_fits(markup: Any) -> bool:
    if markup is None:
        return True
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return False
    if not isinstance(markup, dict):
        return False
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                return False
            data = button.get("callback_data")
            if data is not None and len(str(data).encode()) > CALLBACK_DATA_LIMIT:
                return False
    return True


def telegram_html_length(text: str) -> int | None:
    """The length Telegram counts (UTF-16 units of the text without tags, trimmed), or None when
    Telegram's HTML parser would refuse it. The rules are the emulator's model of Telegram's
    parser (bot/telegram_rules/html.py), stricter than Telegram on a bare '&'."""
    try:
        plain, entities = parse_html(text)
    except EntityParseError:
        return None
    return utf16_len(strip_text(plain, entities)[0])


def retry_after(body: bytes) -> float | None:
    try:
        value = json.loads(body).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None
