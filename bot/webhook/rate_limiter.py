"""The Application's rate limiter: every reply takes its token from the bot's send budget.

Part of the Telegram machinery (here in bot/webhook, like the transport), so it may touch
python-telegram-bot. It replaces PTB's AIORateLimiter, whose rate is this process's alone; here
the budget is the bot's (bot/sendrate/budget.py), so with any number of instances the replies
and the outbox together stay within Telegram's limits, and a 429 one instance meets pauses all
of them.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.sendrate.budget import BOT, SendBudget, chat_key, counts_as_send, take_token

log = logging.getLogger(__name__)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int form is deprecated; either form is read the same here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def acquire(budget: SendBudget, chat_id: object) -> None:
    """Wait for a token of the chat's bucket (groups) and then one of the bot's."""
    key = chat_key(chat_id)
    if key is not None:
        await take_token(budget, key)
    await take_token(budget, BOT)


def pause_for(budget: SendBudget, chat_id: object, seconds: float) -> None:
    """Telegram said 429: a group's flood pauses that group, anything else the whole bot."""
    budget.pause(chat_key(chat_id) or BOT, seconds)


class BudgetRateLimiter(BaseRateLimiter[int]):
    """Takes a token before every send and honours 429s, retrying up to ``max_retries`` times.

    Calls that send nothing (edits, callback answers, getMe) pass straight through, as Telegram
    does not count them against the message limits.
    """

    def __init__(self, budget: SendBudget, *, max_retries: int = 3) -> None:
        self.budget = budget
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        sends = counts_as_send(endpoint)
        chat_id = data.get("chat_id")
        for attempt in range(self.max_retries + 1):
            if sends:
                await acquire(self.budget, chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                if sends:
                    # Stored in the budget: every instance's next send waits it out.
                    pause_for(self.budget, chat_id, seconds)
                if attempt == self.max_retries:
                    raise
                log.info("429 from Telegram on %s: waiting %.0f s", endpoint, seconds)
                if not sends:
                    await asyncio.sleep(seconds)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
