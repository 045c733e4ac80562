"""End-to-end harness: the real bot (build_runtime, build_application) against the emulator.

Fixtures (tests/conftest.py):
    bot           a running BotHarness, on SQLite and on PostgreSQL (parametrised database_url)
    bot_sqlite    the same on SQLite only
    make_bot      factory for settings or restarts: ``await make_bot(database_url, **kw)`` or
                  ``async with make_bot(database_url, **kw) as bot``; kw are Settings fields
                  (admin_ids=[1], complaints_chat_id=-100, ...) plus ``emulator=`` (reuse the
                  chats of a stopped harness: a restart) and ``flood_limits=True``. Every harness
                  still running is stopped at teardown.

Example::

    async def test_start(bot):
        citizen = bot.user(1001, first_name="Sari", language_code="id")
        await citizen.send("/start")            # "/cmd args" arrives as a command
        menu = await citizen.reply()            # waits up to 5 s for ONE new bot message
        assert "📋 Layanan" in menu.labels      # menu.buttons: [(label, callback_data or url)]
        await citizen.click("🌐 Bahasa")        # by label or callback_data, newest message first
        answer = await citizen.callback_answer()  # {"text", "show_alert", "url", "cache_time"}
        choose = await citizen.reply()
        await citizen.expect_silence()          # nothing more within 0.3 s

    async def test_restart(make_bot, database_url):
        first = await make_bot(database_url, admin_ids=[1])
        ...
        await first.stop()
        second = await make_bot(database_url, admin_ids=[1], emulator=first.emulator)

BotHarness: .rt (Runtime), .app (Application), .emulator (bot.emulator.Emulator),
    .user(id, first_name="Citizen", language_code="id") -> ChatUser (same object on later calls),
    .group(chat_id, title="Officers") -> ChatGroup (a group the bot is in),
    await .settle() (every update sent so far fetched and fully handled: for database checks
    after an action the bot answers with nothing), .context() (a CallbackContext to call a job
    callback directly), .bot_errors, .tolerate_errors, await .stop().
ChatUser (and ChatGroup, for the bot's messages in the group):
    await send(text), send_location(lat, lon, live_period=None) (live when given),
    send_contact(phone, own=True, contact_user_id=None),
    send_photo(data=PNG_1PX, caption=None), send_document(filename, data,
    mime="text/csv"), send_media(kind) (voice, audio, video, video_note, animation, sticker);
    await click(label_or_data,
    message=None); await forge_click(data, message=None) (data no button carries);
    await replies(n=1, timeout=5.0), reply(timeout=5.0), expect_silence(seconds=0.3);
    messages() (the bot's messages in the chat now: edits applied, deleted ones gone);
    await callback_answer(timeout=5.0) (answer to the last click, None if none); block_bot(),
    unblock_bot(). ChatGroup.send(user, text, reply_to=None) writes in the group as that user
    (a Telegram reply to the SentMessage ``reply_to``, quoting it with its buttons);
    ChatGroup.kick_bot() removes the bot from it (403 afterwards).
SentMessage: message_id, chat_id, method, text (text or caption as read), html (as sent with
    parse_mode HTML, else None), buttons, labels, keyboard (reply-keyboard labels),
    reply_markup, venue, location, photo, document, reply_to (message id or None), raw, edited.

Semantics:
- replies(n) returns the next n bot messages in that chat, in order, counting from the
  previous replies() call (or from the user's creation). Edits count too: they come as a
  SentMessage with ``edited=True`` and ``method`` "editMessageText" or
  "editMessageReplyMarkup", carrying the message as it stands after the edit. On a timeout the
  test fails listing what did arrive, what the emulator refused (e.g. "can't parse entities")
  and the errors the bot logged.
- The emulator behaves like Telegram: the bot can only write to users who wrote to it first
  (403 "bot can't initiate conversation with a user"), blocked users give 403, bad HTML or
  text over 4,096 characters 400; a blocked user who writes again unblocks the bot.
- A harness fails at stop when the bot logged an ERROR (an exception in a handler, ...) or
  left a click it fetched without answerCallbackQuery (the button would keep spinning on
  Telegram); a test that provokes either on purpose sets ``bot.tolerate_errors = True``.
- Everything runs on the test's event loop; ``bot.emulator`` gives lower-level checks
  (``emulator.errors``, ``emulator.chat_actions``, ``emulator.commands_for(user_id)``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import Emulator, EmulatorServer, Event

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123:TEST"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
BOT_EVENTS = ("bot", "edit")


@dataclass
class SentMessage:
    """One thing the bot did in a chat: a message sent, or an edit (``edited``)."""

    message_id: int
    chat_id: int
    method: str
    text: str | None  # text or caption, as the user reads it (entities parsed away)
    html: str | None  # the text or caption as the bot sent it with parse_mode HTML
    buttons: list[tuple[str, str]]  # inline buttons, flattened: (label, callback_data or url)
    keyboard: list[str]  # reply-keyboard button labels, flattened
    reply_markup: dict | None
    venue: dict | None
    location: dict | None
    photo: list | None
    document: dict | None
    reply_to: int | None = None
    raw: dict = field(repr=False, default_factory=dict)
    edited: bool = False

    @classmethod
    def from_event(cls, event: Event, html: str | None) -> SentMessage:
        message = event.message
        markup = message.get("reply_markup") if event.kind == "edit" else None
        if event.kind != "edit":
            markup = event.params.get("reply_markup")
        inline = [b for row in (markup or {}).get("inline_keyboard", []) for b in row]
        keyboard = [
            b if isinstance(b, str) else b.get("text", "")
            for row in (markup or {}).get("keyboard", [])
            for b in row
        ]
        return cls(
            message_id=message["message_id"],
            chat_id=event.chat_id,
            method=event.method,
            text=message.get("text", message.get("caption")),
            html=html,
            buttons=[(b["text"], b.get("callback_data") or b.get("url") or "") for b in inline],
            keyboard=keyboard,
            reply_markup=markup,
            venue=message.get("venue"),
            location=message.get("location"),
            photo=message.get("photo"),
            document=message.get("document"),
            reply_to=(message.get("reply_to_message") or {}).get("message_id"),
            raw=message,
            edited=event.kind == "edit",
        )

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.buttons]

    def describe(self) -> str:
        if self.text is not None:
            body = repr(self.text)
        elif self.venue:
            body = f"venue {self.venue['title']!r}, {self.venue['address']!r}"
        elif self.location:
            body = f"location {self.location['latitude']},{self.location['longitude']}"
        else:
            body = "photo" if self.photo else "document" if self.document else "?"

        extra = f" buttons={self.labels}" if self.buttons else ""
        extra += f" keyboard={self.keyboard}" if self.keyboard else ""
        return f"{self.method}#{self.message_id}: {body}{extra}"


class _Chat:
    """A chat seen from the test: the bot's messages in it, awaited in order."""

    def __init__(self, harness: BotHarness, chat_id: int) -> None:
        self.harness = harness
        self.chat_id = chat_id
        self._cursor = len(harness.emulator.events)

    @property
    def emulator(self) -> Emulator:
        return self.harness.emulator

    def _sent(self, event: Event) -> SentMessage:
        html = None
        for earlier in reversed(self.emulator.events[: event.seq]):
            if earlier.chat_id != self.chat_id or earlier.kind not in BOT_EVENTS:
                continue
            if earlier.message["message_id"] != event.message["message_id"]:
                continue
            params = earlier.params
            if "text" in params or "caption" in params:
                if str(params.get("parse_mode") or "").upper() == "HTML":
                    html = str(params.get("text", params.get("caption")))
                break
        return SentMessage.from_event(event, html)

    def _new_events(self) -> list[Event]:
        return self.emulator.chat_events(self.chat_id, self._cursor, kinds=BOT_EVENTS)

    async def replies(self, n: int = 1, timeout: float = 5.0) -> list[SentMessage]:
        """The next ``n`` bot messages (or edits) in this chat since the previous call."""
        events = await self.emulator.wait_for(
            lambda: (e := self._new_events()) and len(e) >= n and e, timeout
        )
        if not events:
            arrived = [self._sent(e).describe() for e in self._new_events()]
            pytest.fail(
                f"expected {n} new bot message(s) in chat {self.chat_id} within {timeout}s, "
                f"got {len(arrived)}:" + "".join(f"\n    {line}" for line in arrived)
                + self.harness.diagnostics(self.chat_id)
            )
        taken = events[:n]
        self._cursor = taken[-1].seq
        return [self._sent(e) for e in taken]

    async def reply(self, timeout: float = 5.0) -> SentMessage:
        return (await self.replies(1, timeout))[0]

    async def expect_silence(self, seconds: float = 0.3) -> None:
        """Assert the bot sends nothing new in this chat for ``seconds``."""
        events = await self.emulator.wait_for(self._new_events, seconds)
        if events:
            said = [self._sent(e).describe() for e in events]
            pytest.fail(f"expected silence in chat {self.chat_id}, the bot sent {said}")

    def messages(self) -> list[SentMessage]:
        """Every message the bot has in this chat now: edits applied, deleted ones gone."""
        current = {m["message_id"] for m in self.emulator.bot_messages(self.chat_id)}
        latest: dict[int, Event] = {}
        for event in self.emulator.chat_events(self.chat_id, 0, kinds=BOT_EVENTS):
            latest[event.message["message_id"]] = event
        return [self._sent(latest[mid]) for mid in sorted(latest) if mid in current]

    def _find_button(self, label_or_data: str, message: SentMessage | None) -> tuple[dict, str]:
        candidates = self.emulator.bot_messages(self.chat_id)
        if message is not None:
            candidates = [m for m in candidates if m["message_id"] == message.message_id]
            if not candidates:
                pytest.fail(f"message {message.message_id} is gone from chat {self.chat_id}")
        seen = []
        for current in reversed(candidates):
            for row in (current.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    seen.append((button["text"], button.get("callback_data", button.get("url"))))
                    if label_or_data in (button["text"], button.get("callback_data")):
                        if "callback_data" not in button:
                            pytest.fail(f"button {button['text']!r} opens a URL, it has no data")
                        return current, button["callback_data"]
        pytest.fail(
            f"no inline button {label_or_data!r} in chat {self.chat_id}; buttons there: {seen}"
        )


class ChatUser(_Chat):
    """A Telegram user talking to the bot in their private chat."""

    def __init__(self, harness: BotHarness, user_id: int) -> None:
        super().__init__(harness, user_id)
        self.id = user_id
        self._last_query: str | None = None

    async def send(self, text: str) -> None:
        """Write ``text``; "/cmd args" arrives as a command."""
        self.emulator.send_text(self.id, text)
        await asyncio.sleep(0)

    async def send_location(self, lat: float, lon: float, live_period: int | None = None) -> None:
        self.emulator.send_location(self.id, lat, lon, live_period=live_period)
        await asyncio.sleep(0)

    async def send_contact(
        self, phone: str, *, own: bool = True, contact_user_id: int | None = None
    ) -> None:
        """Share a contact: this user's own, or (``own=False``) someone else's."""
        self.emulator.send_contact(self.id, phone, own=own, contact_user_id=contact_user_id)
        await asyncio.sleep(0)

    async def send_photo(self, data: bytes = PNG_1PX, caption: str | None = None) -> None:
        self.emulator.send_photo(self.id, data, caption)
        await asyncio.sleep(0)

    async def send_document(self, filename: str, data: bytes, mime: str = "text/csv") -> None:
        self.emulator.send_document(self.id, filename, data, mime)
        await asyncio.sleep(0)

    async def send_media(self, kind: str, caption: str | None = None) -> None:
        """A voice note, audio, video, video_note, animation or sticker."""
        self.emulator.send_media(self.id, kind, caption=caption)
        await asyncio.sleep(0)

    async def click(self, label_or_data: str, message: SentMessage | None = None) -> None:
        """Press an inline button, found by label or callback_data on ``message`` or else on the
        newest bot message in this chat (or ``message``'s chat, e.g. a group) that has it."""
        chat = self if message is None or message.chat_id == self.id else _Chat(
            self.harness, message.chat_id
        )
        target, data = chat._find_button(label_or_data, message)
        self._last_query = self.emulator.click(
            self.id, target["chat"]["id"], target["message_id"], data
        )
        await asyncio.sleep(0)

    async def forge_click(self, data: str, message: SentMessage | None = None) -> None:
        """Send callback ``data`` no button carries (forged or stale), on ``message`` or on the
        bot's newest message in this chat."""
        if message is None:
            sent = self.emulator.bot_messages(self.id)
            if not sent:
                pytest.fail(f"the bot has no message in chat {self.id} to press a button on")
            chat_id, message_id = self.id, sent[-1]["message_id"]
        else:
            chat_id, message_id = message.chat_id, message.message_id
        self._last_query = self.emulator.click(self.id, chat_id, message_id, data, check=False)
        await asyncio.sleep(0)

    async def callback_answer(self, timeout: float = 5.0) -> dict | None:
        """The bot's answerCallbackQuery to this user's last click: text, show_alert, url, ...;
        None when it did not answer within ``timeout``."""
        if self._last_query is None:
            pytest.fail(f"user {self.id} has not clicked anything")
        query_id = self._last_query
        emulator = self.emulator
        return await emulator.wait_for(lambda: emulator.callback_answer(query_id), timeout)

    def block_bot(self) -> None:
        self.emulator.block(self.id, True)

    def unblock_bot(self) -> None:
        self.emulator.block(self.id, False)


class ChatGroup(_Chat):
    """A group chat the bot is a member of (officers' group, complaints desk, ...)."""

    def __init__(self, harness: BotHarness, chat_id: int, title: str) -> None:
        super().__init__(harness, chat_id)
        self.id = chat_id
        self.title = title

    async def send(self, user: ChatUser, text: str, reply_to: SentMessage | None = None) -> None:
        """``user`` writes ``text`` in this group, as a Telegram reply to ``reply_to`` if given."""
        self.emulator.send_text(
            user.id, text, chat_id=self.id,
            reply_to=reply_to.message_id if reply_to is not None else None,
        )
        await asyncio.sleep(0)

    def kick_bot(self) -> None:
        """Remove the bot from the group: what it sends here is then refused with 403."""
        self.emulator.kick_bot(self.id)


class _ErrorLog(logging.Handler):
    """Collects the bot's ERROR records while a harness runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("bot", "handlers", "telegram"):
            self.records.append(record)

    def lines(self) -> list[str]:
        out = []
        for record in self.records:
            line = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                line += f" [{exc.__class__.__name__}: {exc}]"
            out.append(line)
        return out


class BotHarness:
    """The emulator on a free port plus the real runtime and Application polling it."""

    def __init__(
        self,
        database_url: str,
        *,
        emulator: Emulator | None = None,
        flood_limits: bool = False,
        **settings: Any,
    ) -> None:
        if emulator is None:
            emulator = Emulator(TOKEN, flood_limits=flood_limits)
        self.emulator = emulator
        self.server = EmulatorServer(emulator)
        self.database_url = database_url
        self.settings_overrides = settings
        self.tolerate_errors = False
        self.rt: Any = None
        self.app: Any = None
        self._users: dict[int, ChatUser] = {}
        self._groups: dict[int, ChatGroup] = {}
        self._errors = _ErrorLog()
        self._running = False

    async def start(self) -> BotHarness:
        from bot.app import build_application, build_runtime
        from bot.core.config import load_settings

        logging.getLogger().addHandler(self._errors)
        await self.server.start()
        settings = {
            "database_url": self.database_url,
            "telegram_bot_token": TOKEN,
            "telegram_api_base_url": self.server.api_url,
            "knowledge_dir": REPO / "knowledge",
            "admin_ids": [],
            **self.settings_overrides,
        }
        self.rt = build_runtime(load_settings(**settings))
        self.app = build_application(self.rt)
        # The order Application.run_polling uses, minus the signal handling and the loop.
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.updater.start_polling(poll_interval=0, timeout=10)
        await self.app.start()
        self._running = True
        return self

    async def stop(self) -> None:
        """Stop the bot and the emulator; fails the test if the bot logged errors."""
        if not self._running:
            return
        self._running = False
        try:
            if self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
                if self.app.post_stop:
                    await self.app.post_stop(self.app)
            await self.app.shutdown()
            if self.app.post_shutdown:
                await self.app.post_shutdown(self.app)
        finally:
            await self.server.stop()
            logging.getLogger().removeHandler(self._errors)
        if self.tolerate_errors:
            return
        problems = [f"the bot logged: {line}" for line in self.bot_errors]
        # Telegram shows a spinner on a pressed button until answerCallbackQuery.
        problems += [
            f"the bot never answered the click on {q['data']!r} by user {q['user_id']}"
            for q in self.emulator.unanswered_queries()
        ]
        if problems:
            pytest.fail("\n".join(problems))

    async def __aenter__(self) -> BotHarness:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def user(
        self, user_id: int, first_name: str = "Citizen", language_code: str | None = "id"
    ) -> ChatUser:
        """A Telegram user (created in the emulator on first call; the same object after)."""
        if user_id not in self._users:
            if user_id not in self.emulator.users:
                self.emulator.add_user(user_id, first_name, language_code)
            self._users[user_id] = ChatUser(self, user_id)
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Officers") -> ChatGroup:
        """A group chat the bot is in."""
        if chat_id not in self._groups:
            if chat_id not in self.emulator.chats:
                self.emulator.add_group(chat_id, title)
            self._groups[chat_id] = ChatGroup(self, chat_id, title)
        return self._groups[chat_id]

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and fully handled every update sent so far: for
        assertions on the database after an action the bot answers with nothing."""
        emulator = self.emulator
        if not await emulator.wait_for(lambda: not emulator.updates, timeout):
            pytest.fail(f"the bot did not fetch its updates within {timeout}s")
        # The updater queues what it fetched before confirming it with the next getUpdates,
        # and the Application marks each update done only after every handler ran.
        await asyncio.wait_for(self.app.update_queue.join(), timeout)

    def context(self) -> Any:
        """A CallbackContext of the running Application, to call a job callback directly."""
        from telegram.ext import CallbackContext

        return CallbackContext(self.app)

    @property
    def bot_errors(self) -> list[str]:
        return self._errors.lines()

    def diagnostics(self, chat_id: int) -> str:
        refused = [
            f"{e['method']}: {e['description']}"
            for e in self.emulator.errors
            if str(e.get("chat_id")) == str(chat_id)
        ]
        text = ""
        if refused:
            text += "\n  the emulator refused:" + "".join(f"\n    {line}" for line in refused)
        if self._errors.records:
            text += "\n  the bot logged:" + "".join(f"\n    {line}" for line in self.bot_errors)
        return text


class HarnessStarter:
    """What make_bot returns: await it for a running harness, or use it with ``async with``."""

    def __init__(self, harness: BotHarness) -> None:
        self.harness = harness

    def __await__(self) -> Generator[Any, None, BotHarness]:
        return self.harness.start().__await__()

    async def __aenter__(self) -> BotHarness:
        return await self.harness.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.harness.stop()
