"""The reply journal: what a webhook update has already sent, so a taken-over update does not
send it twice.

An instance killed in the middle of an update leaves it unfinished, and another instance takes
it over after the lease (bot/webhook/store.py, retake_orphans) and handles it again from the start.
Without a record, whatever the dead instance had already sent (the answer to a question, the
answer to a button press) would reach the citizen a second time. So every Bot API call that
changes something, made while an update is handled, is written down with Telegram's response as
soon as Telegram has answered it; the record lives in the update's row in processed_updates and
is dropped with its stored copy when the update is finished.

On a retake the handler runs again, and its calls are matched to the record by method and
order: the k-th sendMessage of the retake is the k-th sendMessage of the first run (whether or
not Telegram accepted the first run's earlier ones). One already
made is not made again; the handler gets the recorded response instead (the same message id,
so a later edit edits the message the citizen has). The first run may have changed the
database before it died, so the retake can take another path (a survey answer "already
recorded"); matching by method keeps that path from repeating what was sent. What is left is
the moment between Telegram's answer and the record's write: a kill in exactly that moment
would send once more, as a call to an API without an idempotency key can always be repeated.

So the last message an update sends does not go as a call of its own: it goes back to Telegram
in the answer to the webhook request that brought the update (the Bot API's "reply to a webhook
with a method"), see WebhookAnswer. Telegram takes the update as delivered and runs the method
in one step, on its side: the instance writes the answer down first (the journal and the
row's ``answer``), then answers. Killed before the write, the webhook request fails, Telegram
sends the update again, and nothing was sent; killed after it, either Telegram has the answer,
or it sends the update again and gets the same answer from the row. No moment is left in which
the message can go twice. Earlier messages of the same update (rare: most send one) and the
outbox's messages still go as calls; their window stays.

No Telegram imports: this sees method names and response bodies only (bot/app.py wires it).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from bot.core.db import Database
from bot.core.metrics import METRICS
from bot.webhook.answer import (
    MAX_RETRY_WAIT,
    RELEASE_ATTEMPTS,
    Held,
    WebhookAnswer,
    fits_webhook_answer,
    retry_after,
    stand_in_response,
)
from bot.webhook.store import write_answer, write_replies

log = logging.getLogger(__name__)

# Set by the webhook server around the handling of one update (a task of its own, so each
# update sees its own journal); None outside an update and in polling mode.
CURRENT_JOURNAL: ContextVar[ReplyJournal | None] = ContextVar("reply_journal", default=None)

# Telegram's answer to a callback query answered too late, or twice.
_QUERY_TOO_OLD = "query is too old"


def changes_something(api_method: str) -> bool:
    """Bot API methods worth recording: all but the readers (getMe, getFile, getChat...)."""
    return not api_method.lower().startswith("get")


# Calls that put a new message in a chat: made twice, the citizen sees it twice. (Edits,
# callback answers and settings made twice change nothing the second time.)
_NEW_MESSAGE_METHODS = frozenset(
    {
        "sendMessage", "sendVenue", "sendLocation", "sendContact", "sendPhoto", "sendDocument",
        "copyMessage", "forwardMessage", "sendMediaGroup",
    }
)


def puts_new_message(api_method: str) -> bool:
    return api_method in _NEW_MESSAGE_METHODS


def keep_no_copy() -> None:
    """The rest of the current update's messages go as calls, none in the webhook's answer:
    the answer is kept with the update's row for two days (a redelivery gets it again), and
    after /hapusdata no copy of a message to the person may stay. The journal of the calls is
    dropped when the update is finished. Does nothing outside a webhook update."""
    journal = CURRENT_JOURNAL.get()
    if journal is not None:
        journal.no_copy = True


class ReplyJournal:
    """The calls one update has made that Telegram accepted: ``{"method#k": response body}``,
    k counting every call of that method the handler made (accepted or not), so a call that
    failed the first time keeps its place and is made again on a retake."""

    def __init__(
        self,
        db: Database,
        update_id: int,
        done: dict[str, str] | None = None,
        answer: WebhookAnswer | None = None,
        chat_id: int | None = None,
        received_at: float | None = None,
    ) -> None:
        self.db = db
        # When the update arrived (time.perf_counter), for the update-to-reply histogram.
        self.received_at = received_at
        self.replied = False
        self.update_id = update_id
        self.retaken = done is not None
        self.entries: dict[str, str] = dict(done or {})
        self._calls: Counter[str] = Counter()
        # The webhook request that brought the update, while it waits (None: taken over, or
        # polling): the update's last message to its own chat goes back in its answer.
        self.answer = answer
        self.chat_id = chat_id
        self._unwritten: set[str] = set()
        self.held: Held | None = None
        # Set by keep_no_copy: nothing of this update goes in the webhook's answer.
        self.no_copy = False

    def next_call(self, api_method: str) -> tuple[str, bytes | None]:
        """Count a call about to be made: its key in the journal, and the recorded response
        when it was already made."""
        self._calls[api_method] += 1
        key = f"{api_method}#{self._calls[api_method]}"
        recorded = self.entries.get(key)
        if recorded is None:
            return key, None
        log.info("update %s: %s already made before the takeover, not made again",
                 self.update_id, key)
        return key, recorded.encode()

    def record(self, key: str, body: bytes) -> None:
        """Telegram accepted the call: written down before the handler goes on.

        If the database cannot take it, the handler still goes on: the call was made, and
        failing it now would have the citizen told of an error after their answer. Only the
        protection against a second send after a takeover is lost for this call.
        """
        self.entries[key] = body.decode("utf-8", "replace")
        try:
            write_replies(self.db, self.update_id, self.entries)
        except Exception:  # noqa: BLE001 - see above
            self._unwritten.add(key)
            log.warning("update %s: could not record its %s in the reply journal",
                        self.update_id, key, exc_info=True)
        else:
            self._unwritten.clear()  # the whole record was written, earlier misses included

    def written(self, key: str) -> bool:
        """Whether ``key`` is in the journal as stored (not only in memory)."""
        return key in self.entries and key not in self._unwritten

    # --- the last message, in the webhook's answer ---------------------------------------------

    def may_hold(self, api_method: str, params: dict[str, Any]) -> bool:
        """Whether this call can wait to go in the webhook's answer: a message (not a file),
        while the webhook request still waits, that Telegram will surely take. The answer's
        outcome is never known, so a message Telegram might refuse goes as a call, whose error
        the handler sees: one with a doubtful text, or one to another chat than the update's
        (an officer's private chat they never opened: the handler tells them to open it)."""
        return (
            self.answer is not None
            and self.answer.waiting
            and not self.no_copy
            and api_method == "sendMessage"
            and self.chat_id is not None
            and str(params.get("chat_id")) == str(self.chat_id)
            and fits_webhook_answer(params)
        )

    def hold(
        self, key: str, params: dict[str, Any], send: Callable[[], Awaitable[tuple[int, bytes]]]
    ) -> bytes:
        """Keep the message back until the handler makes another call (then it is sent first,
        keeping the order) or ends (then it goes in the webhook's answer). The handler gets a
        stand-in for Telegram's response; its message id is 0, unknown until sent (no handler
        reads the message it sent: a button press carries its own message)."""
        stand_in = stand_in_response(params)
        self.held = Held(key, params, stand_in, send)
        return stand_in

    async def release(self) -> None:
        """Send the held message now, as a call of its own."""
        held, self.held = self.held, None
        if held is None:
            return
        for _ in range(RELEASE_ATTEMPTS):
            try:
                status, body = await held.send()  # recorded in the journal once accepted
            except Exception as exc:  # noqa: BLE001 - network trouble: the handler went on
                # The handler was told it was sent and has moved on (or ended): the error goes
                # to the log, not to the handler's next call, and the update still finishes.
                METRICS.updates_lost.inc()
                log.warning("update %s: its message could not be sent (%s: %s)",
                            self.update_id, type(exc).__name__, exc)
                return
            if status == 200:
                if not self.written(held.key):
                    self.record(held.key, body)
                return
            wait = retry_after(body) if status == 429 else None
            if wait is None:
                break
            await asyncio.sleep(min(wait, MAX_RETRY_WAIT))
        # The handler went on as if it was sent; its error handler never sees this one.
        METRICS.updates_lost.inc()
        log.error("update %s: its message could not be sent (%s): %s", self.update_id,
                  status, body.decode("utf-8", "replace")[:200])

    async def settle(self) -> None:
        """The handler is done. A held message goes in the webhook's answer if the request still
        waits, written down first: the journal (a retake does not send it again) and the row's
        ``answer`` (a redelivered update gets it again, see webhook_answer_for). Else, or if the
        database cannot take it, it goes as a call. Then the webhook request is let go."""
        held, answer = self.held, self.answer
        try:
            if held is not None and answer is not None and answer.waiting and not self.no_copy:
                body = {"method": "sendMessage", **held.params}
                entries = {**self.entries, held.key: held.stand_in.decode()}
                try:
                    write_answer(self.db, self.update_id, entries, body)
                except Exception:  # noqa: BLE001 - sent as a call instead
                    log.warning("update %s: could not record its webhook answer; sending it as "
                                "a call", self.update_id, exc_info=True)
                else:
                    # No await since the request was seen waiting: it cannot have given up.
                    self.held, self.entries = None, entries
                    answer.give(body)
            await self.release()
        finally:
            if answer is not None:
                answer.done()

    def excuse(self, api_method: str, status: int, body: bytes) -> bytes | None:
        """A stand-in for a failure the retake itself causes, else None.

        A button press taken over after the lease is older than Telegram keeps the query open,
        so answering it (which only stops the spinner on the citizen's button) fails with "query
        is too old". The rest of the handler (recording the answer, showing the next step) must
        still run, so that failure counts as answered.
        """
        if (
            self.retaken
            and api_method == "answerCallbackQuery"
            and status == 400
            and _QUERY_TOO_OLD in body.decode("utf-8", "replace").lower()
        ):
            log.info("update %s: its button press is too old to answer now; going on",
                     self.update_id)
            return b'{"ok":true,"result":true}'
        return None
