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
still sends once more. Exactly once to an API that has no idempotency key cannot be promised.

No Telegram imports: this sees method names and response bodies only (bot/app.py wires it).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from contextvars import ContextVar
from typing import Any

from bot.db import Database

log = logging.getLogger(__name__)

# Set by the webhook server around the handling of one update (a task of its own, so each
# update sees its own journal); None outside an update and in polling mode.
CURRENT_JOURNAL: ContextVar[ReplyJournal | None] = ContextVar("reply_journal", default=None)

# Telegram's answer to a callback query answered too late, or twice.
_QUERY_TOO_OLD = "query is too old"


def changes_something(api_method: str) -> bool:
    """Bot API methods worth recording: all but the readers (getMe, getFile, getChat...)."""
    return not api_method.lower().startswith("get")


class ReplyJournal:
    """The calls one update has made that Telegram accepted: ``{"method#k": response body}``,
    k counting every call of that method the handler made (accepted or not), so a call that
    failed the first time keeps its place and is made again on a retake."""

    def __init__(
        self, db: Database, update_id: int, done: dict[str, str] | None = None
    ) -> None:
        self.db = db
        self.update_id = update_id
        self.retaken = done is not None
        self.entries: dict[str, str] = dict(done or {})
        self._calls: Counter[str] = Counter()

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
            log.warning("update %s: could not record its %s in the reply journal",
                        self.update_id, key, exc_info=True)

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
