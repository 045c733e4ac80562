"""The Bot API transport: python-telegram-bot's request interface on aiohttp.

Wiring, like bot/app.py: it may touch python-telegram-bot. PTB's own HTTPXRequest spends about
0.9 ms of CPU per call in httpx and httpcore; aiohttp's C-accelerated client about 0.2 ms. Every
answer and every notification is such a call, so in webhook mode under load this is the larger
part of the bot's own work.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import urllib.request
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.core.metrics import SEND_METHODS, observe_reply, record_api_call
from bot.webhook.journal import CURRENT_JOURNAL, changes_something, puts_new_message

DEFAULT_TIMEOUT = 5.0  # connect, read (as PTB's HTTPXRequest)
DEFAULT_POOL_TIMEOUT = 1.0  # waiting for a free connection
MEDIA_READ_TIMEOUT = 20.0  # an upload (document, chart) may take longer to be answered

log = logging.getLogger(__name__)

# Set around a call whose acceptance must be written down at once (bot/webhook/journal.py: the reply
# journal; handlers/outbox_delivery.py: an outbox row sent): called with Telegram's response body as
# soon as Telegram has accepted the call, before anything else of the bot runs. See
# AiohttpRequest.do_request.
ON_ACCEPTED: ContextVar[Callable[[bytes], None] | None] = ContextVar("on_accepted", default=None)


class AiohttpRequest(BaseRequest):
    """Keep-alive connections to the Bot API, at most ``connection_pool_size`` at once.

    Proxies come from the environment (HTTPS_PROXY, NO_PROXY, as with httpx), read once per
    host: aiohttp's own trust_env reads them, and ~/.netrc in a thread, on every call. aiohttp
    has no write
    timeout of its own: the read timeout covers an upload, so for files it is the longer
    MEDIA_READ_TIMEOUT unless the caller gave one.
    """

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        # The worker threads' clients are shared by every AiohttpRequest of the process and
        # closed when it exits (atexit below), never under a call still in a thread.

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        read = _given(read_timeout, MEDIA_READ_TIMEOUT if files else self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        on_accepted = ON_ACCEPTED.get()
        if on_accepted is not None and not files:
            # A message that would go out twice if the process died between Telegram's answer
            # and its record. On the event loop that moment lasts as long as the loop runs
            # behind (seconds, on a saturated machine); in a thread of its own the record
            # follows the answer within a round trip and a GIL switch.
            return await asyncio.to_thread(
                _post_recording, method, url, fields, read, connect, on_accepted
            )
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's "connect" includes waiting for a free pooled connection.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        for attempt in (1, 2):
            try:
                async with self._session.request(
                    method,
                    url,
                    data=_body(fields, files),
                    timeout=timeout,
                    proxy=self._proxy_for(url),
                ) as response:
                    return response.status, await response.read()
            except TimeoutError as exc:
                raise TimedOut from exc
            except aiohttp.ClientOSError as exc:
                if attempt == 1 and _unsent(exc):
                    # A kept-alive connection the server had closed meanwhile: the request never
                    # reached it whole, so nothing was done; once more, on a new connection.
                    continue
                raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
            except aiohttp.ClientError as exc:
                raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and urllib.request.proxy_bypass(key[1]):
                proxy = None  # NO_PROXY names this host
            self._proxies[key] = proxy
        return self._proxies[key]


_local = threading.local()
_clients: list[httpx.Client] = []
_clients_lock = threading.Lock()


def _thread_client() -> httpx.Client:
    """A keep-alive client per worker thread (closed by close_thread_clients)."""
    client = getattr(_local, "client", None)
    if client is None or client.is_closed:
        client = _local.client = httpx.Client(headers={"User-Agent": BaseRequest.USER_AGENT})
        with _clients_lock:
            _clients.append(client)
    return client


def close_thread_clients() -> None:
    with _clients_lock:
        clients, _clients[:] = list(_clients), []
    for client in clients:
        client.close()


atexit.register(lambda: close_thread_clients())


def _post_recording(
    method: str,
    url: str,
    fields: dict[str, Any] | None,
    read: float | None,
    connect: float | None,
    on_accepted: Callable[[bytes], None],
) -> tuple[int, bytes]:
    """The call, blocking, in a worker thread, and its record as soon as Telegram accepted it."""
    try:
        response = _thread_client().request(
            method, url, data=fields, timeout=httpx.Timeout(read, connect=connect)
        )
    except httpx.TimeoutException as exc:
        raise TimedOut from exc
    except httpx.HTTPError as exc:
        raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
    body = response.content
    if response.status_code == 200:
        try:
            on_accepted(body)
        except Exception:  # noqa: BLE001 - the caller records it again on the event loop
            log.warning("could not record an accepted call at once", exc_info=True)
    return response.status_code, body


def _body(fields: dict[str, Any] | None, files: dict[str, Any] | None) -> Any:
    """The request body, made anew for every attempt (aiohttp reads a FormData only once)."""
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in (fields or {}).items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _unsent(exc: aiohttp.ClientOSError) -> bool:
    """aiohttp failed while still writing the request (its own wording, aiohttp 3.9 to 3.14):
    a server acts on a request only once it has all of it, so repeating it is safe."""
    return "can not write request body" in str(exc).lower()


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class CountingRequest(AiohttpRequest):
    """The Bot API transport, counting sends, 429s and failures for /metrics, and keeping the
    reply journal of the update being handled (bot/webhook/journal.py): a call a taken-over update
    had already made is answered from the journal instead of being made again, and the update's
    last message is held back for the webhook's answer."""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        journal = CURRENT_JOURNAL.get()
        if journal is None or not changes_something(api_method):
            status, body = await super().do_request(url, method, *args, **kwargs)
            record_api_call(api_method, status)
            return status, body
        if api_method in SEND_METHODS:
            # Counted when the call is made or held for the webhook's answer; a failed call
            # is rare enough not to be told apart here.
            observe_reply(journal)
        key, recorded = journal.next_call(api_method)
        if recorded is not None:
            return 200, recorded
        # A message held for the webhook's answer goes first: this call comes after it.
        await journal.release()
        request_data = kwargs.get("request_data", args[0] if args else None)
        if request_data is not None and not request_data.contains_files:
            params = request_data.parameters
            if journal.may_hold(api_method, params):

                async def send() -> tuple[int, bytes]:
                    return await self._recorded_call(journal, key, api_method, url, method,
                                                     *args, **kwargs)

                return 200, journal.hold(key, params, send)
        status, body = await self._recorded_call(
            journal, key, api_method, url, method, *args, **kwargs
        )
        if status != 200:
            excused = journal.excuse(api_method, status, body)
            if excused is not None:
                return 200, excused
        return status, body

    async def _recorded_call(
        self, journal: Any, key: str, api_method: str, url: str, method: str, *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Make the call and write it in the journal once Telegram accepted it: for a call that
        puts a new message in a chat, on PostgreSQL, at once in the transport's thread (see
        ON_ACCEPTED); an edit or a callback answer done twice changes nothing, and is recorded
        here."""
        token = None
        # On PostgreSQL only: on SQLite a write from another thread would end a session of the
        # event loop's that read before it and writes after it ("database is locked", WAL's
        # stale snapshot); SQLite is one process anyway, and a killed one restarts.
        if puts_new_message(api_method) and journal.db.is_postgres:
            token = ON_ACCEPTED.set(lambda body: journal.record(key, body))
        try:
            status, body = await super().do_request(url, method, *args, **kwargs)
        finally:
            if token is not None:
                ON_ACCEPTED.reset(token)
        record_api_call(api_method, status)
        if status == 200 and not journal.written(key):
            journal.record(key, body)  # not recorded in the thread (or its write failed)
        return status, body
