"""Token buckets for Telegram's send limits: one for the bot, one per group chat.

Telegram counts messages per bot (about 30 a second), per private chat (about one a second) and
per group (20 a minute), whichever process sends them. A bucket holds up to ``capacity`` tokens
and refills at ``rate`` a second; every message takes one. A 429 from Telegram pauses the
bucket until its ``retry_after`` has passed.

Replies come first: the outbox sender asks with a ``reserve``, so it takes a token only while
more than that many are left, and a reply (no reserve) finds one at once even in the middle of
a broadcast. Private chats have no shared bucket: a reply answers what the citizen just wrote,
and the outbox sends one message at a time per chat, a second apart across every instance
(bot/outbox/store.py, claim_due).

No Telegram here: the rate limiter (bot/webhook/rate_limiter.py) and the outbox sender
(handlers/outbox_delivery.py) take from these buckets around their Bot API calls.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from bot.core.db import Database

BOT = "bot"
# The bot's bucket holds half a second of sends: Telegram's own allows a second's worth, and
# the other half absorbs sends that reach it bunched (a token is taken before the request
# leaves, and a busy machine delays some requests more than others).
BOT_BURST_SECONDS = 0.5
# 20 messages a minute per group, and never more in any minute: a bucket of 10 refilled at
# 10 a minute sends at most 10 + 10 in sixty seconds, and still lets a few go at once.
GROUP_BURST = 10
GROUP_PER_SECOND = 10 / 60
# A rate of hundreds a second (only against the emulator, measuring the bot itself) is taken
# by the replies in leases of this many seconds' worth, used within LEASE_TTL (SharedBudget).
LEASE_SECONDS = 0.01
LEASE_TTL = 0.1
# A waiter sleeps at most this long before looking again (see nap): another instance may have
# taken the tokens it waited for, or a longer pause may have begun.
MAX_SLEEP = 1.0
MIN_SLEEP = 0.002

# Bot API methods that put a message in a chat: what Telegram's flood control counts.
_SENDS_WITHOUT_PREFIX = frozenset({"copyMessage", "copyMessages", "forwardMessage",
                                   "forwardMessages"})


def counts_as_send(method: str) -> bool:
    """True for the Bot API methods that put a new message in a chat (not sendChatAction)."""
    if method in _SENDS_WITHOUT_PREFIX:
        return True
    return method.startswith("send") and method != "sendChatAction"


def chat_key(chat_id: object) -> str | None:
    """The bucket of a chat's own limit: groups and channels (negative ids) have one."""
    try:
        number = int(chat_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None  # a @channel username: only the bot's limit applies
    return f"chat:{number}" if number < 0 else None


@dataclass(frozen=True)
class Grant:
    """What a take gave: ``granted`` tokens; if fewer than asked, try again after ``wait`` s."""

    granted: int
    wait: float


def nap(grant: Grant) -> float:
    """How long a waiter sleeps before it asks again."""
    return min(MAX_SLEEP, grant.wait)


class SendBudget(Protocol):
    per_second: float

    def take(self, key: str, want: int = 1, *, reserve: float = 0.0) -> Grant: ...

    def pause(self, key: str, seconds: float) -> None: ...


async def take_token(
    budget: SendBudget, key: str, *, reserve: float = 0.0, max_wait: float | None = None
) -> float:
    """Wait for one token of ``key``'s bucket; 0 once taken. With ``max_wait``, gives up
    instead of waiting longer than that at once (a long 429 pause) and returns the wait."""
    while True:
        grant = budget.take(key, 1, reserve=reserve)
        if grant.granted:
            return 0.0
        if max_wait is not None and grant.wait > max_wait:
            return grant.wait
        await asyncio.sleep(nap(grant))


def _shape(key: str, per_second: float) -> tuple[float, float]:
    """(capacity, refill per second) of a bucket."""
    if key == BOT:
        return max(per_second * BOT_BURST_SECONDS, 1.0), per_second
    return GROUP_BURST, GROUP_PER_SECOND


def _wait(tokens: float, want: float, rate: float, paused: float) -> float:
    """Seconds until ``want`` tokens could be there, at least until the pause ends."""
    missing = max(0.0, want - tokens)
    return max(MIN_SLEEP, paused, missing / rate)


class LocalBudget:
    """The buckets in this process's memory: for SQLite, where the bot is one process."""

    def __init__(self, per_second: float, clock=time.monotonic) -> None:  # noqa: ANN001
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [tokens, refreshed at, paused until]
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str, want: int = 1, *, reserve: float = 0.0) -> Grant:
        capacity, rate = _shape(key, self.per_second)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, [capacity, now, 0.0])
            tokens = min(capacity, bucket[0] + max(0.0, now - bucket[1]) * rate)
            paused = max(0.0, bucket[2] - now)
            granted = 0 if paused else max(0, min(want, math.floor(tokens - reserve)))
            bucket[0], bucket[1] = tokens - granted, max(now, bucket[1])
        if granted == want:
            return Grant(granted, 0.0)
        return Grant(granted, _wait(bucket[0], reserve + want - granted, rate, paused))

    def pause(self, key: str, seconds: float) -> None:
        capacity, _ = _shape(key, self.per_second)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, [capacity, now, 0.0])
            bucket[0], bucket[1] = min(bucket[0], 0.0), max(now, bucket[1])
            bucket[2] = max(bucket[2], now + seconds)


# The bucket as one UPDATE: every SET expression reads the row as it was, and PostgreSQL
# evaluates them on the newest version once it holds the row's lock, so concurrent takers
# (any number of instances) queue on the row and never spend the same token twice. now() is
# when the statement began, possibly before a wait for the lock: refreshed_at never goes back.
_AVAILABLE = (
    "LEAST(%(capacity)s, tokens + %(rate)s"
    " * GREATEST(0, EXTRACT(EPOCH FROM now() - refreshed_at)))"
)
_GRANTED = (
    "CASE WHEN paused_until > now() THEN 0"
    f" ELSE GREATEST(0, LEAST(%(want)s, FLOOR({_AVAILABLE} - %(reserve)s)))::int END"
)
_TAKE = (
    f"UPDATE send_budget SET granted = {_GRANTED}, tokens = {_AVAILABLE} - {_GRANTED},"
    " refreshed_at = GREATEST(refreshed_at, now())"
    " WHERE key = %(key)s"
    " RETURNING granted, tokens,"
    " GREATEST(0, EXTRACT(EPOCH FROM paused_until - refreshed_at))::float"
)
_CREATE = (
    "INSERT INTO send_budget (key, tokens, refreshed_at, paused_until, granted)"
    " VALUES (%(key)s, %(capacity)s, now(), now(), 0) ON CONFLICT (key) DO NOTHING"
)
_PAUSE = (
    "UPDATE send_budget SET tokens = LEAST(tokens, 0),"
    " refreshed_at = GREATEST(refreshed_at, now()),"
    " paused_until = GREATEST(paused_until, now() + make_interval(secs => %(seconds)s))"
    " WHERE key = %(key)s"
)


class SharedBudget:
    """The buckets as rows of ``send_budget`` on PostgreSQL, shared by every instance.

    Each take or pause is one autocommit statement on the bookkeeping engine (bot/core/db.py), about
    a tenth of a millisecond of the database's time: cheap beside the Bot API call it allows.
    The database's clock is the only clock, so instances on machines whose clocks differ
    still share one rate.
    """

    def __init__(self, db: Database, per_second: float) -> None:
        self.db = db
        self.per_second = per_second
        # Replies' tokens taken ahead (see _from_lease): how many, and until when they may be used.
        self._lease = int(per_second * LEASE_SECONDS)
        self._leased = 0
        self._leased_until = 0.0
        self._lock = threading.Lock()

    def take(self, key: str, want: int = 1, *, reserve: float = 0.0) -> Grant:
        if key == BOT and want == 1 and not reserve and self._lease > 1:
            return self._from_lease()
        return self._take(key, want, reserve)

    def _from_lease(self) -> Grant:
        """A reply's token from tokens taken ahead, LEASE_SECONDS' worth in one statement.

        Only where the rate is far above Telegram's (the emulator measuring the bot itself):
        at 28 a second a lease is one token, and every send asks the database. Tokens not used
        within LEASE_TTL are lost to the bot, never sent beyond the rate."""
        now = time.monotonic()
        with self._lock:
            if self._leased > 0 and now < self._leased_until:
                self._leased -= 1
                return Grant(1, 0.0)
        grant = self._take(BOT, self._lease, 0.0)
        if not grant.granted:
            return grant
        with self._lock:
            self._leased, self._leased_until = grant.granted - 1, now + LEASE_TTL
        return Grant(1, 0.0)

    def _take(self, key: str, want: int, reserve: float) -> Grant:
        capacity, rate = _shape(key, self.per_second)
        params = {"key": key, "capacity": capacity, "rate": rate, "want": want,
                  "reserve": reserve}
        row = self._run(_TAKE, params)
        if row is None:  # the bucket's first use on this database
            self._run(_CREATE, params, fetch=False)
            row = self._run(_TAKE, params)
        granted, tokens, paused = int(row[0]), float(row[1]), float(row[2])
        if granted == want:
            return Grant(granted, 0.0)
        return Grant(granted, _wait(tokens, reserve + want - granted, rate, paused))

    def pause(self, key: str, seconds: float) -> None:
        capacity, _ = _shape(key, self.per_second)
        params = {"key": key, "capacity": capacity, "seconds": float(seconds)}
        self._run(_CREATE, params, fetch=False)
        self._run(_PAUSE, params, fetch=False)

    def _run(self, sql: str, params: dict[str, object], *, fetch: bool = True) -> tuple | None:
        conn = self.db.bookkeeping.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchone() if fetch else None
            finally:
                cursor.close()
        except Exception:
            conn.invalidate()
            raise
        finally:
            conn.close()
