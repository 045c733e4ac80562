"""The outbox sender: delivers queued messages under Telegram's limits, each row exactly once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from telegram import Bot, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.warnings import PTBUserWarning

from bot.core.i18n import N_
from bot.core.metrics import METRICS, record_api_call
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.models import OutboxMessage
from bot.outbox.store import (
    CLAIM_RENEW,
    claim_due,
    edit_target,
    mark_failed,
    mark_retry,
    mark_unreachable,
    move_chat,
    outbox_counts,
    recent_failures,
    record_sent,
    release,
    renew_claim,
)
from bot.sendrate import BOT, chat_key, send_budget
from bot.sendrate.budget import take_token
from bot.webhook.rate_limiter import pause_for, retry_after_seconds
from bot.webhook.transport import ON_ACCEPTED, AiohttpRequest
from handlers.common import GROUP_FEATURES, reply_html, runtime, staff_only, translator
from handlers.registry import registry_of

log = logging.getLogger(__name__)

# The outbox stores Bot API method names (sendMessage, sendPhoto, ...) and sends them with
# do_api_request, which would warn on every call that a typed method exists.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.\w+' instead of", category=PTBUserWarning
)

# The bot's rate (about 30 a second, for every instance together) is the send budget's
# (bot/sendrate): the sender takes a token only while more than OUTBOX_RESERVE are left, so
# the replies to updates, which take without a reserve, go first.
OUTBOX_RESERVE = 3
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
GROUP_PER_MINUTE = 20
BATCH = 30  # rows claimed at once: about one second of sending, so a crash strands few rows
MAX_INLINE_WAIT = 5.0  # longer pauses (a long 429) end the drain; the next run resumes
MAX_IN_FLIGHT = 4  # sends of one sender awaiting Telegram's answer at once
TICK_SECONDS = 0.5
EDIT_WAIT = timedelta(seconds=2)  # an edit whose message is still to be sent tries again then


class SendLimiter:
    """This process's pacing per chat: a second between two messages, 20 a minute per group.

    Across instances the outbox claim keeps one message in flight per chat and a second
    between two (bot/outbox/store.py, claim_due), and groups and the bot's overall rate take
    from the shared send budget (bot/sendrate). Times are seconds on the sender's clock (see
    ``_Clock``).
    """

    def __init__(
        self,
        *,
        chat_interval: float = CHAT_INTERVAL,
        group_per_minute: int = GROUP_PER_MINUTE,
    ) -> None:
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self._chat_last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._latest = 0.0

    def _sync(self, t: float) -> None:
        # A clock that went backwards (a test moved it, then stopped moving it) would make the
        # recorded sends look like the future and block everything: start afresh instead.
        if t < self._latest:
            self.__init__(chat_interval=self.chat_interval, group_per_minute=self.group_per_minute)
        self._latest = t

    def chat_wait(self, chat_id: int, t: float) -> float:
        self._sync(t)
        wait = 0.0
        last = self._chat_last.get(chat_id)
        if last is not None:
            wait = max(0.0, last + self.chat_interval - t)
        if chat_id < 0:
            sent = self._groups.get(chat_id)
            if sent:
                while sent and t - sent[0] >= 60.0:
                    sent.popleft()
                if len(sent) >= self.group_per_minute:
                    wait = max(wait, sent[0] + 60.0 - t)
        return wait

    def record(self, chat_id: int, t: float) -> None:
        self._chat_last[chat_id] = t
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(t)
        if len(self._chat_last) > 5000:
            # Forget chats whose window has passed, so a long-running bot does not grow.
            self._chat_last = {
                c: last for c, last in self._chat_last.items() if t - last < self.chat_interval
            }
            self._groups = {c: q for c, q in self._groups.items() if q and t - q[-1] < 60.0}


class _Clock:
    """Wall time that starts at ``now`` (a test's moved clock) and runs at real speed."""

    def __init__(self, now: datetime | None) -> None:
        self._base = now or utcnow()
        self._start = time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._start)

    def t(self) -> float:
        return self.now().timestamp()


@dataclass
class OutboxSender:
    worker_id: str
    limiter: SendLimiter
    bot: Bot | None = None
    task: asyncio.Task[int] | None = None  # the background drain started by the job
    stopping: bool = False


def outbox_sender(rt: Runtime) -> OutboxSender:
    if rt.outbox_sender is None:
        worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        rt.outbox_sender = OutboxSender(worker_id=worker, limiter=SendLimiter())
    return rt.outbox_sender


async def _plain_bot(sender: OutboxSender, app_or_bot: Application | Bot) -> Bot:
    """A Bot without the Application's rate limiter, for the same token and server.

    The sender bypasses that limiter on purpose: it retries a 429 inside the call, sleeping
    while this sender holds claimed rows, and knows nothing of per-chat pacing. The sender
    takes from the same send budget itself (with a reserve that lets replies go first), paces
    each chat (SendLimiter) and must see each 429 to put the row back and pause.
    """
    source = app_or_bot if isinstance(app_or_bot, Bot) else app_or_bot.bot
    if type(source) is Bot:  # already plain (a test or bench may pass one)
        return source
    if sender.bot is None or sender.bot.token != source.token:
        if sender.bot is not None:
            await sender.bot.shutdown()
        # Kept before its getMe: if that fails (Telegram slow to answer), the next tick's
        # initialize asks again on the same connections, and close_sender closes them.
        sender.bot = Bot(
            token=source.token,
            base_url=source.base_url.removesuffix(source.token),
            base_file_url=source.base_file_url.removesuffix(source.token),
            request=_CountedRequest(connection_pool_size=BATCH + 2),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
    await sender.bot.initialize()  # once: after a success it returns at once
    return sender.bot


class _CountedRequest(AiohttpRequest):
    """The sender's transport, counting sends, 429s and 403s for /metrics as the replies'
    transport does (bot/webhook/transport.py, CountingRequest)."""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, *args, **kwargs)
        record_api_call(url.rsplit("/", 1)[-1], status)
        return status, body


async def close_sender(rt: Runtime) -> None:
    """At shutdown: let the batch in flight finish (no new claims), then close connections.

    Not cancelling matters: a send cancelled mid-request may have reached Telegram without
    being marked sent.
    """
    sender = rt.outbox_sender
    if sender is None:
        return
    sender.stopping = True
    if sender.task is not None and not sender.task.done():
        try:
            await asyncio.wait_for(asyncio.shield(sender.task), timeout=30)
        except (TimeoutError, Exception):  # noqa: BLE001 - its rows are reclaimed later anyway
            log.warning("outbox: drain still running at shutdown", exc_info=True)
    if sender.bot is not None:
        await sender.bot.shutdown()
        sender.bot = None


async def _deliver(
    rt: Runtime, bot: Bot, sender: OutboxSender, row: OutboxMessage, clock: _Clock
) -> bool:
    """Send one claimed row and settle it; True when Telegram accepted it.

    On PostgreSQL the row is marked sent in the transport's thread the moment Telegram accepts
    it (bot/webhook/transport.py, ON_ACCEPTED): a sender killed after that does not send it
    again. What is left is the round trip between Telegram's answer and the record."""
    params = {**row.payload, "chat_id": row.chat_id}
    if row.edit_of is not None:
        with rt.db.session() as session:
            target = edit_target(session, row)
            if target == "wait":  # the message to edit is not sent yet: it goes first
                release(session, row, not_before=clock.now() + EDIT_WAIT)
                return False
            if target == "gone":
                mark_failed(session, row, error="the message to edit was never sent")
                return False
        params["message_id"] = target
    settled: list[bool] = []
    token = ON_ACCEPTED.set(
        # PostgreSQL only: see CountingRequest._recorded_call (bot/webhook/transport.py) for SQLite.
        (
            lambda body: settled.append(
                record_sent(rt.db, row, now=clock.now(), message_id=_message_id_in(body))
            )
        )
        if rt.db.is_postgres else None
    )
    try:
        result = await bot.do_api_request(row.method, api_kwargs=params)
    except RetryAfter as exc:
        wait = retry_after_seconds(exc)
        # In the send budget: every instance's replies and outbox wait it out.
        pause_for(send_budget(rt), row.chat_id, wait)
        with rt.db.session() as session:
            release(session, row, not_before=clock.now() + timedelta(seconds=wait))
        log.info("outbox: 429 from Telegram, pausing %.1f s", wait)
        return False
    except Forbidden as exc:
        with rt.db.session() as session:
            dropped = mark_unreachable(session, row, now=clock.now())
        log.info("outbox: chat %s unreachable (%s); dropped %d more", row.chat_id, exc, dropped)
        return False
    except ChatMigrated as exc:
        with rt.db.session() as session:
            move_chat(session, old_chat_id=row.chat_id, new_chat_id=exc.new_chat_id)
            release(session, row, not_before=clock.now())
        return False
    except BadRequest as exc:
        if row.edit_of is not None and "not modified" in exc.message.lower():
            # The message already reads so (an edit sent twice): done, nothing to change.
            return record_sent(rt.db, row, now=clock.now())
        # Telegram refused the request itself (bad markup, chat not found): sending the same
        # payload again cannot succeed.
        with rt.db.session() as session:
            mark_failed(session, row, error=f"BadRequest: {exc.message}")
        log.warning("outbox: row %s refused by Telegram: %s", row.id, exc.message)
        return False
    except Exception as exc:  # noqa: BLE001 - network trouble, 5xx: retry with backoff
        # A timeout may hide a message that did arrive; retrying then sends it twice, which
        # is the lesser evil next to a status change the citizen never hears about.
        with rt.db.session() as session:
            status = mark_retry(session, row, error=f"{type(exc).__name__}: {exc}", now=clock.now())
        log.warning("outbox: row %s attempt failed (%s), now %s", row.id, exc, status)
        return False
    finally:
        ON_ACCEPTED.reset(token)
    recorded = (
        settled[0]
        if settled
        else record_sent(rt.db, row, now=clock.now(), message_id=_message_id_of(result))
    )
    if not recorded:
        log.warning("outbox: row %s was reclaimed while being sent", row.id)
    METRICS.outbox_delay.observe(max(0.0, (clock.now() - row.not_before).total_seconds()))
    return True


def _message_id_of(result: Any) -> int | None:
    """The id of the message a Bot API call made or edited (None for calls that make none)."""
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return result["message_id"]
    return None


def _message_id_in(body: bytes) -> int | None:
    """_message_id_of for the raw response body Telegram accepted the call with."""
    try:
        return _message_id_of(json.loads(body).get("result"))
    except (ValueError, AttributeError):
        return None


async def drain_outbox(
    app_or_bot: Application | Bot,
    rt: Runtime,
    *,
    now: datetime | None = None,
    max_messages: int | None = None,
) -> int:
    """Send due outbox rows until none is due (or ``max_messages`` were tried); returns sent.

    ``now`` moves the clock for tests (rows with a later ``not_before`` become due); the rate
    windows then run on that moved clock too.
    """
    sender = outbox_sender(rt)
    bot = await _plain_bot(sender, app_or_bot)
    clock = _Clock(now)
    limiter = sender.limiter
    budget = send_budget(rt)
    # A token is taken only when a send can leave at once: a token taken long before its
    # request reaches Telegram (queued behind others) would let sends arrive bunched.
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tried = sent = 0
    while (max_messages is None or tried < max_messages) and not sender.stopping:
        limit = BATCH if max_messages is None else min(BATCH, max_messages - tried)
        with rt.db.session() as session:
            rows = claim_due(session, worker_id=sender.worker_id, limit=limit, now=clock.now())
        if not rows:
            break
        # Renewed while this batch is in hand, so no other sender takes it over meanwhile.
        renewing = asyncio.create_task(_keep_claimed(rt, rows[0].claimed_by, clock))
        try:
            tasks: list[asyncio.Task[bool]] = []
            stopped = False
            for index, row in enumerate(rows):
                wait = limiter.chat_wait(row.chat_id, clock.t())
                group = chat_key(row.chat_id)
                if wait <= 0 and group is not None:
                    grant = budget.take(group)  # the group's 20 a minute, for every instance
                    wait = grant.wait if not grant.granted else 0.0
                if wait > 0:
                    # This chat had a message moments ago: the row waits its turn, others go on.
                    with rt.db.session() as session:
                        release(session, row, not_before=clock.now() + timedelta(seconds=wait))
                    continue
                await in_flight.acquire()
                wait = await take_token(
                    budget, BOT, reserve=OUTBOX_RESERVE, max_wait=MAX_INLINE_WAIT
                )
                if wait > 0:  # a long 429 pause
                    in_flight.release()
                    later = clock.now() + timedelta(seconds=wait)
                    with rt.db.session() as session:
                        for rest in rows[index:]:
                            release(session, rest, not_before=later)
                    stopped = True
                    break
                limiter.record(row.chat_id, clock.t())
                tried += 1
                task = asyncio.create_task(_deliver(rt, bot, sender, row, clock))
                task.add_done_callback(lambda _task: in_flight.release())
                tasks.append(task)
            sent += sum(await asyncio.gather(*tasks))
        finally:
            renewing.cancel()
        if stopped:
            break
    return sent


async def _keep_claimed(rt: Runtime, token: str | None, clock: _Clock) -> None:
    """Every CLAIM_RENEW, refresh the claim on the rows of one batch until cancelled."""
    if token is None:
        return
    while True:
        await asyncio.sleep(CLAIM_RENEW.total_seconds())
        try:
            with rt.db.session() as session:
                renew_claim(session, token, now=clock.now())
        except Exception:  # noqa: BLE001 - the next renewal may succeed; the TTL has room
            log.warning("outbox: could not renew a claim", exc_info=True)


async def _background_drain(app: Application, rt: Runtime) -> int:
    try:
        return await drain_outbox(app, rt)
    except NetworkError as exc:  # TimedOut included: Telegram slow or unreachable for now
        log.warning("outbox: Telegram did not answer (%s); retrying on the next tick",
                    _reason(exc))
    except OperationalError as exc:  # the database restarting, a connection dropped
        log.warning("outbox: database unavailable (%s); retrying on the next tick",
                    _reason(exc.orig or exc))
    except Exception:  # noqa: BLE001 - the sender must survive; a bug shows its traceback
        log.exception("outbox drain failed; retrying on the next tick")
    return 0


def _reason(exc: BaseException) -> str:
    """One line: the exception's kind and its first line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def outbox_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: starts a drain unless one is still going, and returns at once.

    The drain runs as its own task so that a long one (a bulk update) neither blocks the job
    queue nor makes the scheduler skip ticks; one drain at a time per process.
    """
    rt = runtime(context)
    sender = outbox_sender(rt)
    if sender.stopping or (sender.task is not None and not sender.task.done()):
        return
    sender.task = asyncio.create_task(_background_drain(context.application, rt))


@staff_only("admin")
async def outbox_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/outbox: counts per status and the latest failures, for admins."""
    _ = translator(update, context).gettext
    with runtime(context).db.session() as session:
        counts = outbox_counts(session)
        failures = recent_failures(session, limit=10)
    lines = [_("<b>Outbox</b>")]
    for status, label in (
        ("pending", _("waiting")),
        ("claimed", _("being sent")),
        ("sent", _("sent")),
        ("failed", _("failed")),
        ("dropped", _("dropped (user blocked the bot)")),
    ):
        lines.append(f"{label}: {counts.get(status, 0)}")
    if failures:
        lines += ["", _("<b>Latest failures</b>")]
        for row in failures:
            lines.append(
                f"#{row.id} → {row.chat_id} ({row.attempts}×): {escape(row.last_error or '')}"
            )
    await reply_html(update, "\n".join(lines))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("outbox", outbox_command), GROUP_FEATURES)
    registry_of(app).add_staff_command(
        "admin", "outbox", "outbox", N_("Messages waiting to go out")
    )
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            outbox_job,
            interval=TICK_SECONDS,
            first=1.0,
            name="outbox",
            job_kwargs={"coalesce": True},
        )
