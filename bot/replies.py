"""The reply journal: what a webhook update has already sent, so a taken-over update does not
send it twice.

An instance killed in the middle of an update leaves it unfinished, and another instance takes
it over after the lease (bot/scaleout.py, retake_orphans) and handles it again from the start.
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
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from bot.db import Database
from bot.emulator.html import EntityParseError, parse_html, strip_text, utf16_len
from bot.metrics import METRICS

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
            wait = _retry_after(body) if status == 429 else None
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
            if held is not None and answer is not None and answer.waiting:
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


def write_answer(
    db: Database, update_id: int, entries: dict[str, str], body: dict[str, Any]
) -> None:
    """The journal with the answer's message, and the answer itself, in one statement. The
    answer outlives the journal (finishing the update drops only the journal): Telegram may
    send the update again until it has had an answer."""
    db.execute(
        "UPDATE processed_updates SET replies = %s, answer = %s WHERE update_id = %s",
        (json.dumps(entries, ensure_ascii=False), json.dumps(body, ensure_ascii=False),
         update_id),
    )


def webhook_answer_for(db: Database, update_id: int) -> tuple[dict[str, Any] | None, bool]:
    """For a redelivered update: the message its first answer carried (the instance wrote it
    down, then died or lost the connection before Telegram had it) or None; and whether the
    update is finished."""
    row = db.lookup(
        "SELECT answer, finished_at FROM processed_updates WHERE update_id = %s", (update_id,)
    )
    if row is None:
        return None, True
    value, finished = row
    if value is None:
        return None, finished is not None
    return (json.loads(value) if isinstance(value, str) else dict(value)), finished is not None


def write_replies(db: Database, update_id: int, entries: dict[str, str]) -> None:
    """The update's whole record, in one autocommit statement (bookkeeping, bot/db.py)."""
    db.execute(
        "UPDATE processed_updates SET replies = %s WHERE update_id = %s",
        (json.dumps(entries, ensure_ascii=False), update_id),
    )


def read_replies(value: Any) -> dict[str, str]:
    """The column as stored (JSON text on SQLite, decoded on PostgreSQL) -> entries."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return {str(key): str(body) for key, body in value.items()}


# --- the webhook's answer ----------------------------------------------------------------------

# A held message that Telegram answers 429 is tried again after its wait, this many times.
RELEASE_ATTEMPTS = 4
MAX_RETRY_WAIT = 30.0


class WebhookAnswer:
    """The webhook request that brought an update, waiting for what to answer Telegram with:
    nothing, or the update's last message (bot/server.py waits on ``ready``)."""

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
_TELEGRAM_TEXT_LIMIT = 4096  # UTF-16 code units after the HTML is parsed
_CALLBACK_DATA_LIMIT = 64  # bytes


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
    if length is None or length > _TELEGRAM_TEXT_LIMIT:
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
            if data is not None and len(str(data).encode()) > _CALLBACK_DATA_LIMIT:
                return False
    return True


def telegram_html_length(text: str) -> int | None:
    """The length Telegram counts (UTF-16 units of the text without tags, trimmed), or None when
    Telegram's HTML parser would refuse it. The rules are the emulator's model of Telegram's
    parser (bot/emulator/html.py), stricter than Telegram on a bare '&'."""
    try:
        plain, entities = parse_html(text)
    except EntityParseError:
        return None
    return utf16_len(strip_text(plain, entities)[0])


def _retry_after(body: bytes) -> float | None:
    try:
        value = json.loads(body).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None
