"""The emulator's state and Telegram's semantics: the Bot API methods and a user-side API."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import math
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.telegram_rules.html import EntityParseError, parse_html, strip_text, utf16_len
from bot.telegram_rules.limits import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT

log = logging.getLogger(__name__)

CALLBACK_ANSWER_LIMIT = 200
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files

# Updates Telegram sends when allowed_updates was never given.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Parameters that carry JSON objects; form-encoded requests send them as JSON strings.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "menu_button",
    }
)
# The sending methods Telegram's flood control counts.
COUNTED_METHODS = frozenset(
    {
        "sendmessage",
        "sendvenue",
        "sendlocation",
        "sendphoto",
        "senddocument",
        "sendcontact",
        "forwardmessage",
        "copymessage",
    }
)
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class BotApiError(Exception):
    """A Bot API error, answered with Telegram's JSON shape and the same HTTP status."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {what}")


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    kind: str  # "photo" or "document"
    data: bytes | None  # None for a file Telegram would fetch from a URL
    file_name: str | None = None
    mime_type: str | None = None
    url: str | None = None
    width: int = 0
    height: int = 0

    @property
    def path(self) -> str:
        suffix = ""
        if self.file_name and "." in self.file_name:
            suffix = "." + self.file_name.rsplit(".", 1)[1]
        elif self.kind == "photo":
            suffix = ".jpg"
        folder = "photos" if self.kind == "photo" else "documents"
        return f"{folder}/{self.unique_id}{suffix}"


@dataclass
class Event:
    """Something that happened in a chat, in order: a user's message, or what the bot did."""

    seq: int
    chat_id: int
    kind: str  # "user" (a user wrote), "bot" (bot sent), "edit" (bot edited), "delete"
    method: str  # Bot API method for bot events; "message" for users
    message: dict[str, Any]  # the message as it stood after this event
    params: dict[str, Any] = field(default_factory=dict)  # what the bot asked for

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "chat_id": self.chat_id,
            "kind": self.kind,
            "method": self.method,
            "message": self.message,
            "reply_markup": self.params.get("reply_markup", self.message.get("reply_markup")),
            "parse_mode": self.params.get("parse_mode"),
        }


class _Bucket:
    """Token bucket: ``capacity`` messages at once, refilled at ``rate`` per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class FloodLimits:
    """Telegram's published limits; a private chat may burst a few messages."""

    per_bot: tuple[float, float] = (30, 30.0)  # capacity, per second
    per_private_chat: tuple[float, float] = (4, 1.0)
    per_group: tuple[float, float] = (20, 20 / 60)


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return 320, 320


class Emulator:
    """One bot's view of Telegram, in memory.

    Everything runs on one asyncio event loop (the one serving HTTP): the user-side methods
    (add_user, send_text, click, block, ...) are plain calls made from that loop's thread.
    """

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        bot_name: str = "Servicebot",
        bot_username: str = "servicebot_test_bot",
        flood_limits: bool | FloodLimits = False,
        clock: Callable[[], float] = time.monotonic,
        first_update_id: int | None = None,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        if flood_limits is True:
            flood_limits = FloodLimits()
        self.flood_limits: FloodLimits | None = flood_limits or None
        self.clock = clock
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.kicked_from: set[int] = set()  # groups the bot was removed from
        self.started: set[int] = set()  # users who wrote to the bot, so it may write to them
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self.updates: list[dict[str, Any]] = []
        # Telegram never hands out an update id twice to a bot, and the bot's database remembers
        # the ids it handled for two days: an emulator restarted on the same database must go on
        # from a higher id, or its first messages look like redeliveries. Microseconds since the
        # epoch grow faster than any emulator hands out updates (and stay below 2**53, so the web
        # chat's JavaScript numbers hold them exactly).
        self._next_update_id = (
            first_update_id if first_update_id is not None else time.time_ns() // 1000
        )
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.events: list[Event] = []
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self._next_query = 1
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.profile: dict[tuple[str, str], str] = {}  # (description|short_description, lang)
        self.menu_buttons: dict[str, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.errors: list[dict[str, Any]] = []  # every error answered, for test diagnostics
        self.webhook: dict[str, Any] = {}
        self._webhook_task: asyncio.Task | None = None
        self._buckets: dict[Any, _Bucket] = {}
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self.closing = False
        self._handlers = self._methods()

    def _bot_sender(self) -> dict[str, Any]:
        # A message's "from" carries only the user fields, not getMe's capabilities.
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot_user[key] for key in keys}

    # --- change notification ---------------------------------------------------------------

    def _notify(self) -> None:
        # Each waiter holds the Event current when it started waiting; set it and start anew.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout=max(timeout, 0))
        except TimeoutError:
            pass

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float
    ) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every change); its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or self.closing:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return value
            await self._wait_change(remaining)

    def close(self) -> None:
        """Wake every long poll so the server can stop at once."""
        self.closing = True
        if self._webhook_task is not None:
            self._webhook_task.cancel()
        self._notify()

    # --- Bot API dispatch ------------------------------------------------------------------

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, Upload] | None = None
    ) -> Any:
        """Run a Bot API method; raises BotApiError exactly where Telegram answers an error."""
        handler = self._handlers.get(method.lower())
        if handler is None:
            raise BotApiError(404, "Not Found")
        try:
            params = _decode_params(params)
            result = handler(params, files or {})
            if asyncio.iscoroutine(result):
                result = await result
            return result
        except BotApiError as exc:
            self.errors.append(
                {
                    "method": method,
                    "chat_id": params.get("chat_id"),
                    "error_code": exc.code,
                    "description": exc.description,
                }
            )
            self._notify()
            raise

    async def webhook_answer(self, body: bytes, content_type: str = "application/json") -> None:
        """The answer to a webhook request, as Telegram reads it: a Bot API method to run when
        it names one ("method" and its parameters, as JSON or a form), else nothing. As on
        Telegram, the bot never learns the outcome; an error is only kept in ``errors``."""
        params: Any = None
        if "json" in content_type:
            try:
                params = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return
        elif "x-www-form-urlencoded" in content_type:
            from urllib.parse import parse_qsl

            params = dict(parse_qsl(body.decode("utf-8", "replace")))
        if not isinstance(params, dict) or not isinstance(params.get("method"), str):
            return
        method = params.pop("method")
        try:
            await self.call(method, params)
        except BotApiError:
            pass

    def _methods(self) -> dict[str, Callable[[dict, dict], Any | Awaitable[Any]]]:
        return {
            "getme": lambda p, f: self.bot_user,
            "logout": lambda p, f: True,
            "close": lambda p, f: True,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendvenue": self._send_venue,
            "sendlocation": self._send_location,
            "sendphoto": lambda p, f: self._send_file("photo", p, f),
            "senddocument": lambda p, f: self._send_file("document", p, f),
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "getchat": lambda p, f: self._chat_for(p, sending=False),
            "forwardmessage": lambda p, f: self._forward(p, copy_only=False),
            "copymessage": lambda p, f: self._forward(p, copy_only=True),
            "editmessagecaption": self._edit_message_caption,
            "setmydescription": lambda p, f: self._set_text_setting(p, "description", 512),
            "getmydescription": lambda p, f: self._get_text_setting(p, "description"),
            "setmyshortdescription": lambda p, f: self._set_text_setting(
                p, "short_description", 120
            ),
            "getmyshortdescription": lambda p, f: self._get_text_setting(p, "short_description"),
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
        }

    # --- updates -----------------------------------------------------------------------------

    def _push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if kind not in self.allowed_updates:
            return None
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self.updates.append(update)
        self._notify()
        return update

    async def _get_updates(self, p: dict, f: dict) -> list[dict]:
        if self.webhook.get("url"):
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(p, "offset", default=0)
        limit = min(max(_int(p, "limit", default=100), 1), 100)
        timeout = max(_int(p, "timeout", default=0), 0)
        if "allowed_updates" in p and p["allowed_updates"] is not None:
            self.allowed_updates = frozenset(p["allowed_updates"]) or DEFAULT_UPDATE_TYPES
        # The offset confirms every update before it: they are gone for good.
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        # A newer getUpdates ends an older one that is still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            batch = self.updates[:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self.closing:
                return copy.deepcopy(batch)
            await self._wait_change(remaining)

    def _set_webhook(self, p: dict, f: dict) -> bool:
        url = str(p.get("url") or "")
        if not url:
            return self._delete_webhook(p, f)
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if _bool(p, "drop_pending_updates"):
            self.updates.clear()
        if p.get("allowed_updates") is not None:
            self.allowed_updates = frozenset(p["allowed_updates"]) or DEFAULT_UPDATE_TYPES
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": _int(p, "max_connections", default=40),
        }
        self._poll_generation += 1  # a waiting getUpdates ends with a conflict
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        self._notify()
        return True

    def _delete_webhook(self, p: dict, f: dict) -> bool:
        if _bool(p, "drop_pending_updates"):
            self.updates.clear()
        self.webhook = {}
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        self._notify()
        return True

    def _get_webhook_info(self, p: dict, f: dict) -> dict:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook.get("url"):
            info["max_connections"] = self.webhook["max_connections"]
            info["allowed_updates"] = sorted(self.allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook one by one, in order, retrying on failure."""
        delay = 0.1
        async with httpx.AsyncClient(timeout=10) as client:
            while not self.closing and self.webhook.get("url"):
                if not self.updates:
                    await self._wait_change(1.0)
                    continue
                update = self.updates[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    response = await client.post(
                        self.webhook["url"], json=update, headers=headers
                    )
                    ok = 200 <= response.status_code < 300
                    if ok:
                        await self.webhook_answer(
                            response.content, response.headers.get("content-type", "")
                        )
                    error = f"Wrong response from the webhook: {response.status_code}"
                except httpx.HTTPError as exc:
                    ok = False
                    error = f"Connection failed: {exc.__class__.__name__}"
                if ok:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                    delay = 0.1
                    self._notify()
                    continue
                self.webhook["last_error_date"] = int(time.time())
                self.webhook["last_error_message"] = error
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # --- chats and messages ------------------------------------------------------------------

    def _chat_for(self, p: dict, *, sending: bool = True) -> dict[str, Any]:
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat = None
        if isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self.chats.values() if c.get("username") == raw[1:]), None)
        else:
            try:
                chat = self.chats.get(int(raw))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if sending and chat["id"] in self.kicked_from:
            raise forbidden(f"bot was kicked from the {chat['type']} chat")
        if sending and chat["type"] == "private":
            if chat["id"] in self.blocked:
                raise forbidden("bot was blocked by the user")
            if chat["id"] not in self.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _flood_check(self, method: str, chat: dict[str, Any]) -> None:
        limits = self.flood_limits
        if limits is None or method not in COUNTED_METHODS:
            return
        now = self.clock()
        per_chat = limits.per_private_chat if chat["type"] == "private" else limits.per_group
        buckets = []
        for key, (capacity, rate) in (("bot", limits.per_bot), (chat["id"], per_chat)):
            if key not in self._buckets:
                self._buckets[key] = _Bucket(capacity, rate, now)
            buckets.append(self._buckets[key])
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise BotApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        for bucket in buckets:
            bucket.take()

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def _record(self, chat_id: int, kind: str, method: str, message: dict, params: dict) -> Event:
        event = Event(
            seq=len(self.events) + 1,
            chat_id=chat_id,
            kind=kind,
            method=method,
            message=copy.deepcopy(message),
            params=copy.deepcopy(params),
        )
        self.events.append(event)
        self._notify()
        return event

    def _store_bot_message(
        self, method: str, chat: dict[str, Any], content: dict[str, Any], p: dict
    ) -> dict[str, Any]:
        replied = self._replied_message(chat, p)
        self._flood_check(method.lower(), chat)
        message = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self._bot_sender(),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            # Telegram returns only inline keyboards as part of a message.
            message["reply_markup"] = markup
        self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
        self._record(chat["id"], "bot", method, message, p)
        return copy.deepcopy(message)

    def _replied_message(self, chat: dict[str, Any], p: dict) -> dict[str, Any] | None:
        target = None
        allow_missing = _bool(p, "allow_sending_without_reply")
        reply = p.get("reply_parameters")
        if isinstance(reply, dict):
            target = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif p.get("reply_to_message_id") not in (None, ""):
            target = _int(p, "reply_to_message_id")
        if target is None:
            return None
        replied = self.messages.get(chat["id"], {}).get(int(target))
        if replied is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return replied

    def _formatted(self, p: dict, key: str, limit: int, *, required: bool) -> dict[str, Any]:
        """text/caption with its entities, validated the way Telegram does."""
        raw = p.get(key)
        if raw is None and not required:
            return {}
        raw = "" if raw is None else str(raw)
        parse_mode = p.get("parse_mode")
        entities_key = "entities" if key == "text" else "caption_entities"
        if parse_mode in (None, ""):
            plain, entities = raw, list(p.get(entities_key) or [])
        elif str(parse_mode).lower() == "html":
            try:
                plain, entities = parse_html(raw)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif str(parse_mode).lower() in ("markdown", "markdownv2"):
            # Not checked: this project writes HTML only. Kept as sent.
            plain, entities = raw, []
        else:
            raise bad_request("unsupported parse_mode")
        plain, entities = strip_text(plain, entities)
        if required and not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > limit:
            too_long = "message is too long" if key == "text" else "message caption is too long"
            raise bad_request(too_long)
        if not plain:
            return {}
        content: dict[str, Any] = {key: plain}
        if entities:
            content[entities_key] = entities
        return content

    def _check_markup(self, p: dict, *, inline_only: bool = False) -> None:
        markup = p.get("reply_markup")
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of '
                    "Arrays"
                )
            for row in rows:
                for button in row:
                    _check_inline_button(button)
        elif inline_only:
            raise bad_request("inline keyboard expected")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not text:
                        raise bad_request("keyboard button text is empty")
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise bad_request("can't parse reply keyboard markup JSON object")

    def _send_message(self, p: dict, f: dict) -> dict:
        chat = self._chat_for(p)
        content = self._formatted(p, "text", TEXT_LIMIT, required=True)
        self._check_markup(p)
        return self._store_bot_message("sendMessage", chat, content, p)

    def _send_venue(self, p: dict, f: dict) -> dict:
        chat = self._chat_for(p)
        location = _location(p)
        for key in ("title", "address"):
            if not str(p.get(key) or "").strip():
                raise bad_request(f"venue {key} is empty")
        self._check_markup(p)
        venue = {"location": location, "title": str(p["title"]), "address": str(p["address"])}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if p.get(key):
                venue[key] = str(p[key])
        return self._store_bot_message(
            "sendVenue", chat, {"venue": venue, "location": location}, p
        )

    def _send_location(self, p: dict, f: dict) -> dict:
        chat = self._chat_for(p)
        location = _location(p)
        self._check_markup(p)
        return self._store_bot_message("sendLocation", chat, {"location": location}, p)

    def _send_file(self, kind: str, p: dict, f: dict[str, Upload]) -> dict:
        chat = self._chat_for(p)
        caption = self._formatted(p, "caption", CAPTION_LIMIT, required=False)
        self._check_markup(p)
        stored = self._input_file(kind, p.get(kind), f)
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        content = {kind: self._file_object(stored), **caption}
        return self._store_bot_message(method, chat, content, p)

    def _input_file(self, kind: str, value: Any, files: dict[str, Upload]) -> StoredFile:
        upload = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif value is None or value == "":
            upload = files.get(kind)
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self._store_file(kind, upload.data, upload.filename, upload.content_type)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            return self._store_file(kind, None, value.rsplit("/", 1)[-1], None, url=value)
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        file_name: str | None,
        mime_type: str | None,
        *,
        url: str | None = None,
    ) -> StoredFile:
        digest = hashlib.sha1((data or (url or "").encode()) + kind.encode()).hexdigest()
        number = len(self.files) + 1
        width, height = _png_size(data or b"") if kind == "photo" else (0, 0)
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}{number:06d}{digest[:20]}",
            unique_id=f"u{digest[:12]}{number}",
            kind=kind,
            data=data,
            file_name=file_name if kind == "document" else None,
            mime_type=mime_type if kind == "document" else None,
            url=url,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def _file_object(self, stored: StoredFile) -> Any:
        size = len(stored.data or b"")
        if stored.kind == "photo":
            return [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.unique_id,
                    "width": stored.width,
                    "height": stored.height,
                    "file_size": size,
                }
            ]
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": size,
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _get_file(self, p: dict, f: dict) -> dict:
        stored = self.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.data is not None and len(stored.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data or b""),
            "file_path": stored.path,
        }

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((s for s in self.files.values() if s.path == path and s.data is not None), None)

    def _bot_message(self, p: dict, *, action: str) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request(f"message to {action} not found")
        chat = self._chat_for(p, sending=False)
        message_id = _int(p, "message_id", default=0)
        message = self.messages.get(chat["id"], {}).get(message_id)
        if message is None:
            raise bad_request(f"message to {action} not found")
        return message

    def _edit_message_text(self, p: dict, f: dict) -> dict:
        message = self._bot_message(p, action="edit")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        content = self._formatted(p, "text", TEXT_LIMIT, required=True)
        self._check_markup(p, inline_only=True)
        markup = p.get("reply_markup")
        if (
            content.get("text") == message.get("text")
            and content.get("entities", []) == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _not_modified()
        message.pop("entities", None)
        message.update(content)
        # An edit without reply_markup removes the inline keyboard, as on Telegram.
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._record(message["chat"]["id"], "edit", "editMessageText", message, p)
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, p: dict, f: dict) -> dict:
        message = self._bot_message(p, action="edit")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        self._check_markup(p, inline_only=True)
        markup = p.get("reply_markup")
        if markup == message.get("reply_markup") or (
            not markup and not message.get("reply_markup")
        ):
            raise _not_modified()
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._record(message["chat"]["id"], "edit", "editMessageReplyMarkup", message, p)
        return copy.deepcopy(message)

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: Any) -> None:
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    def _delete_message(self, p: dict, f: dict) -> bool:
        message = self._bot_message(p, action="delete")
        chat_id = message["chat"]["id"]
        del self.messages[chat_id][message["message_id"]]
        self._record(chat_id, "delete", "deleteMessage", message, p)
        return True

    def _answer_callback_query(self, p: dict, f: dict) -> bool:
        query = self.callback_queries.get(str(p.get("callback_query_id") or ""))
        if query is None or query["answer"] is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get("text")
        if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answer"] = {
            "text": None if text is None else str(text),
            "show_alert": _bool(p, "show_alert"),
            "url": p.get("url"),
            "cache_time": _int(p, "cache_time", default=0),
        }
        self._notify()
        return True

    def _send_chat_action(self, p: dict, f: dict) -> bool:
        chat = self._chat_for(p)
        action = str(p.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    def _forward(self, p: dict, *, copy_only: bool) -> dict:
        action = "copy" if copy_only else "forward"
        target = self._chat_for(p)
        source = self._chat_for({"chat_id": p.get("from_chat_id")}, sending=False)
        original = self.messages.get(source["id"], {}).get(_int(p, "message_id", default=0))
        if original is None:
            raise bad_request(f"message to {action} not found")
        content = {
            k: copy.deepcopy(v)
            for k, v in original.items()
            if k in ("text", "entities", "caption", "caption_entities", "photo", "document",
                     "location", "venue", "contact")
        }
        if copy_only:
            if "caption" in p:
                content.pop("caption", None)
                content.pop("caption_entities", None)
                content.update(self._formatted(p, "caption", CAPTION_LIMIT, required=False))
            self._check_markup(p)
            sent = self._store_bot_message("copyMessage", target, content, p)
            return {"message_id": sent["message_id"]}
        origin_user = original["from"]
        content["forward_origin"] = {
            "type": "user",
            "sender_user": copy.deepcopy(origin_user),
            "date": original["date"],
        }
        params = {**p, "reply_markup": None}  # a forward carries no keyboard
        return self._store_bot_message("forwardMessage", target, content, params)

    def _edit_message_caption(self, p: dict, f: dict) -> dict:
        message = self._bot_message(p, action="edit")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        if not ({"photo", "document"} & message.keys()):
            raise bad_request("there is no caption in the message to edit")
        content = self._formatted(p, "caption", CAPTION_LIMIT, required=False)
        self._check_markup(p, inline_only=True)
        markup = p.get("reply_markup")
        if (
            content.get("caption") == message.get("caption")
            and content.get("caption_entities", []) == message.get("caption_entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _not_modified()
        message.pop("caption", None)
        message.pop("caption_entities", None)
        message.update(content)
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._record(message["chat"]["id"], "edit", "editMessageCaption", message, p)
        return copy.deepcopy(message)

    def _set_text_setting(self, p: dict, name: str, limit: int) -> bool:
        value = str(p.get(name) or "")
        if len(value) > limit:
            raise bad_request(f"{name.replace('_', ' ')} is too long")
        key = (name, self._language(p))
        if value:
            self.profile[key] = value
        else:
            self.profile.pop(key, None)
        return True

    def _get_text_setting(self, p: dict, name: str) -> dict:
        return {name: self.profile.get((name, self._language(p)), "")}

    def _set_chat_menu_button(self, p: dict, f: dict) -> bool:
        button = p.get("menu_button") or {"type": "default"}
        if p.get("chat_id") not in (None, ""):
            self._chat_for(p, sending=False)
        self.menu_buttons[str(p.get("chat_id") or "")] = button
        return True

    def _get_chat_menu_button(self, p: dict, f: dict) -> dict:
        key = str(p.get("chat_id") or "")
        return self.menu_buttons.get(key, self.menu_buttons.get("", {"type": "commands"}))

    # --- commands ------------------------------------------------------------------------------

    def _scope_key(self, p: dict) -> str:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        ):
            raise bad_request("can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            self._chat_for({"chat_id": scope["chat_id"]}, sending=False)
        return json.dumps(scope, sort_keys=True)

    @staticmethod
    def _language(p: dict) -> str:
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return language

    def _set_my_commands(self, p: dict, f: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            name = str((command or {}).get("command", ""))
            description = str((command or {}).get("description", ""))
            if not _COMMAND_NAME.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description is empty or too long")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_key(p), self._language(p))
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        self._notify()
        return True

    def _get_my_commands(self, p: dict, f: dict) -> list:
        return copy.deepcopy(self.commands.get((self._scope_key(p), self._language(p)), []))

    def _delete_my_commands(self, p: dict, f: dict) -> bool:
        self.commands.pop((self._scope_key(p), self._language(p)), None)
        self._notify()
        return True

    def commands_for(self, user_id: int, chat_id: int | None = None) -> list[dict[str, str]]:
        """The command menu a Telegram client shows this user in this chat (scope fallback)."""
        chat_id = user_id if chat_id is None else chat_id
        language = self.users.get(user_id, {}).get("language_code") or ""
        chat = self.chats.get(chat_id, {"type": "private"})
        if chat["type"] == "private":
            scopes = [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}]
        else:
            scopes = [
                {"type": "chat_member", "chat_id": chat_id, "user_id": user_id},
                {"type": "chat", "chat_id": chat_id},
                {"type": "all_group_chats"},
            ]
        scopes.append({"type": "default"})
        for scope in scopes:
            key = json.dumps(scope, sort_keys=True)
            for lang in (language, ""):
                if (key, lang) in self.commands:
                    return copy.deepcopy(self.commands[(key, lang)])
        return []

    # --- the user side -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Citizen",
        language_code: str | None = "id",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Create (or update) a Telegram user and their private chat with the bot."""
        if user_id <= 0:
            raise ValueError("a user id is a positive integer")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        self.chats[user_id] = chat
        self._notify()
        return copy.deepcopy(user)

    def add_group(
        self, chat_id: int, title: str = "Officers", *, username: str | None = None
    ) -> dict[str, Any]:
        """A group the bot is a member of; ids starting with -100 are supergroups."""
        if chat_id >= 0:
            raise ValueError("a group id is negative")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat
        self._notify()
        return copy.deepcopy(chat)

    def _user(self, user_id: int) -> dict[str, Any]:
        if user_id not in self.users:
            raise KeyError(f"no user {user_id}: create it with add_user first")
        return self.users[user_id]

    def _user_message(self, user_id: int, chat_id: int | None, content: dict) -> dict:
        user = self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id not in self.chats:
            raise KeyError(f"no chat {chat_id}")
        if chat_id == user_id:
            # Writing to a bot you blocked means pressing "Restart" first: that unblocks it.
            self.block(user_id, False)
            self.started.add(user_id)
        message = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": self.chats[chat_id],
            "date": int(time.time()),
            **content,
        }
        self.messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._record(chat_id, "user", "message", message, {})
        self._push_update("message", copy.deepcopy(message))
        return copy.deepcopy(message)

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict:
        """A user writes ``text``, as a reply to message ``reply_to`` of that chat if given; a
        leading "/command" gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if match:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}
            ]
        if reply_to is not None:
            replied = self.messages.get(user_id if chat_id is None else chat_id, {}).get(reply_to)
            if replied is None:
                raise KeyError(f"no message {reply_to} to reply to")
            # Telegram quotes the replied message one level deep, its inline keyboard included.
            content["reply_to_message"] = {
                k: v for k, v in copy.deepcopy(replied).items() if k != "reply_to_message"
            }
        return self._user_message(user_id, chat_id, content)

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None,
        live_period: int | None = None,
    ) -> dict:
        """A location; with ``live_period`` (seconds) a live location, as Telegram sends it."""
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        if live_period is not None:
            location["live_period"] = int(live_period)
        return self._user_message(user_id, chat_id, {"location": location})

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        chat_id: int | None = None,
        own: bool = True,
        contact_user_id: int | None = None,
    ) -> dict:
        """The user shares their own contact (the request_contact button does this), or with
        ``own=False`` one from their address book: another Telegram user's
        (``contact_user_id``) or a number without a Telegram account (no user_id at all)."""
        user = self._user(user_id)
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact.update(first_name=user["first_name"], user_id=user_id)
            if user.get("last_name"):
                contact["last_name"] = user["last_name"]
        else:
            contact["first_name"] = "Contact"
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
        return self._user_message(user_id, chat_id, {"contact": contact})

    def send_photo(
        self,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> dict:
        stored = self._store_file("photo", data, None, "image/jpeg")
        content: dict[str, Any] = {"photo": self._file_object(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content)

    def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> dict:
        stored = self._store_file("document", data, filename, mime_type)
        content: dict[str, Any] = {"document": self._file_object(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content)

    # What Telegram adds to the file object of each kind of media a user can send.
    _MEDIA_FIELDS: dict[str, dict[str, Any]] = {
        "voice": {"duration": 3},
        "audio": {"duration": 60},
        "video": {"width": 640, "height": 360, "duration": 5},
        "video_note": {"length": 240, "duration": 5},
        "animation": {"width": 320, "height": 240, "duration": 2},
        "sticker": {"width": 512, "height": 512, "is_animated": False, "is_video": False,
                    "type": "regular", "emoji": "👍"},
    }

    def send_media(
        self,
        user_id: int,
        kind: str,
        data: bytes = b"media",
        *,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict:
        """A voice note, audio, video, video note, animation (GIF) or sticker."""
        stored = self._store_file(kind, data, None, None)
        content: dict[str, Any] = {kind: {**self._file_object(stored), **self._MEDIA_FIELDS[kind]}}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content)

    def click(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, check: bool = True
    ) -> str:
        """The user presses an inline button; returns the callback query id.

        With ``check`` the message must carry a button with that data (what a real client can
        do); without it the data is sent as is, to play a forged or stale button.
        """
        user = self._user(user_id)
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        if check and data not in [b.get("callback_data") for b in _inline_buttons(message)]:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        if chat_id == user_id:
            self.started.add(user_id)
        query_id = str(self._next_query)
        self._next_query += 1
        update = self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": copy.deepcopy(user),
                "message": copy.deepcopy(message),
                "chat_instance": str(abs(hash((chat_id, self.bot_user["id"])))),
                "data": data,
            },
        )
        self.callback_queries[query_id] = {
            "user_id": user_id,
            "data": data,
            "answer": None,
            "update_id": update["update_id"] if update else None,
        }
        return query_id

    def unanswered_queries(self) -> list[dict[str, Any]]:
        """Clicks the bot has fetched but never answered: their buttons would keep spinning."""
        pending = {u["update_id"] for u in self.updates}
        return [
            {"id": query_id, **query}
            for query_id, query in self.callback_queries.items()
            if query["answer"] is None
            and query["update_id"] is not None
            and query["update_id"] not in pending
        ]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        query = self.callback_queries.get(query_id)
        return None if query is None else copy.deepcopy(query["answer"])

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot; the bot hears of it as Telegram tells it."""
        user = self._user(user_id)
        if blocked == (user_id in self.blocked):
            return
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        self._push_update(
            "my_chat_member",
            {
                "chat": copy.deepcopy(self.chats[user_id]),
                "from": copy.deepcopy(user),
                "date": int(time.time()),
                "old_chat_member": self._bot_membership(old),
                "new_chat_member": self._bot_membership(new),
            },
        )

    def kick_bot(self, chat_id: int, by_user_id: int | None = None) -> None:
        """Someone removes the bot from a group: sending there is then 403, as on Telegram."""
        chat = self.chats[chat_id]
        if chat["type"] == "private":
            raise ValueError("use block() for a private chat")
        if chat_id in self.kicked_from:
            return
        self.kicked_from.add(chat_id)
        remover = self.users.get(by_user_id or 0) or next(iter(self.users.values()), None)
        self._push_update(
            "my_chat_member",
            {
                "chat": copy.deepcopy(chat),
                "from": copy.deepcopy(remover or self._bot_sender()),
                "date": int(time.time()),
                "old_chat_member": self._bot_membership("member"),
                "new_chat_member": self._bot_membership("left"),
            },
        )

    def _bot_membership(self, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": self._bot_sender(), "status": status}
        if status == "kicked":
            member["until_date"] = 0  # banned for ever, as a block is
        return member

    def chat_events(
        self, chat_id: int, after: int = 0, *, kinds: tuple[str, ...] | None = None
    ) -> list[Event]:
        """Events in a chat with seq > ``after`` (optionally only some kinds), oldest first."""
        return [
            e
            for e in self.events
            if e.seq > after and e.chat_id == chat_id and (kinds is None or e.kind in kinds)
        ]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages as they stand now in a chat (edits applied, deletions gone)."""
        return [
            copy.deepcopy(m)
            for m in self.messages.get(chat_id, {}).values()
            if m["from"]["id"] == self.bot_user["id"]
        ]


# --- parameter decoding ------------------------------------------------------------------------


def _decode_params(params: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(params)
    for key in JSON_PARAMS & decoded.keys():
        value = decoded[key]
        if isinstance(value, str):
            try:
                decoded[key] = json.loads(value) if value else None
            except json.JSONDecodeError:
                if key == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {key} JSON object") from None
    return decoded


def _int(p: dict, key: str, *, default: int | None = None) -> int:
    value = p.get(key)
    if value is None or value == "":
        if default is None:
            raise bad_request(f"{key} is empty")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"field \"{key}\" must be of type Integer") from None


def _bool(p: dict, key: str) -> bool:
    value = p.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _float(p: dict, key: str) -> float:
    try:
        return float(p[key])
    except (KeyError, TypeError, ValueError):
        raise bad_request(f"wrong {key}") from None


def _location(p: dict) -> dict[str, float]:
    latitude, longitude = _float(p, "latitude"), _float(p, "longitude")
    if not -90 <= latitude <= 90:
        raise bad_request("wrong latitude")
    if not -180 <= longitude <= 180:
        raise bad_request("wrong longitude")
    return {"latitude": latitude, "longitude": longitude}


def _not_modified() -> BotApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise bad_request("can't parse inline keyboard button: Text is empty")
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID")
    elif not any(
        key in button
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
    ):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def _inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]
