"""One send rate for the whole bot: Telegram's limits are per bot, not per process.

``send_budget(rt)`` is the budget every send of this process takes from: the replies to updates
(through the Application's rate limiter, bot/webhook/rate_limiter.py) and the outbox sender
(handlers/outbox_delivery.py). On PostgreSQL it is a token bucket row shared by every instance
(SharedBudget); on SQLite, which is one process, it lives in memory (LocalBudget).
"""

from __future__ import annotations

from bot.core.runtime import Runtime
from bot.sendrate.budget import (
    BOT,
    Grant,
    LocalBudget,
    SendBudget,
    SharedBudget,
    chat_key,
    counts_as_send,
)

__all__ = [
    "BOT",
    "Grant",
    "LocalBudget",
    "SendBudget",
    "SharedBudget",
    "chat_key",
    "counts_as_send",
    "send_budget",
]


def send_budget(rt: Runtime) -> SendBudget:
    """This process's budget, made on first use and kept on the runtime."""
    if rt.send_budget is None:
        per_second = rt.settings.telegram_max_calls_per_second
        rt.send_budget = (
            SharedBudget(rt.db, per_second) if rt.db.is_postgres else LocalBudget(per_second)
        )
    return rt.send_budget


def use_budget(rt: Runtime, budget: SendBudget) -> None:
    """Put another budget in place (a bench or a test with other limits)."""
    rt.send_budget = budget
