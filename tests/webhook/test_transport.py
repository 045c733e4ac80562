"""The Bot API transport on aiohttp (bot/webhook/transport.py): errors as PTB names them and
proxies."""

from __future__ import annotations

import asyncio
import socket
import struct

import aiohttp
import pytest
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.webhook.transport import AiohttpRequest


def test_proxies_come_from_the_environment_with_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.kantor.go.id:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy_for("https://api.telegram.org/bot1/getMe") == (
        "http://proxy.kantor.go.id:3128"
    )
    assert request._proxy_for("http://127.0.0.1:8080/bot1/getMe") is None


async def test_a_refused_connection_is_a_network_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/bot1/getMe", "POST")
    finally:
        await request.shutdown()


async def test_a_server_that_never_answers_times_out():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/bot1/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()


class _Server:
    """A bare HTTP/1.1 server: answers every request it reads whole; with ``reset_first`` it
    resets the first connection as soon as the request's headers arrived."""

    def __init__(self, *, reset_first: bool = False) -> None:
        self.reset_first = reset_first
        self.connections = 0
        self.requests_read: list[int] = []  # body sizes of the requests read whole

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        if self.reset_first and self.connections == 1:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST: the client cannot know what was read
            return
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.requests_read.append(len(await reader.readexactly(length)))
        body = b'{"ok":true,"result":true}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()


def _document(size: int) -> RequestData:
    return RequestData(
        [RequestParameter.from_input("document", InputFile(b"x" * size, filename="a.bin"))]
    )


async def test_a_request_that_failed_while_being_written_is_sent_once_more(monkeypatch):
    """A kept-alive connection the server had closed: aiohttp fails writing the request, which
    the server therefore never acted on, so it is safe to send it again (once)."""
    request = AiohttpRequest()
    await request.initialize()
    session_request = request._session.request
    failures = []

    def closed_on_first_write(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if not failures:
            # aiohttp's own error for this case (client_reqrep.py, ClientRequest.write_bytes).
            failures.append(aiohttp.ClientOSError(32, "Can not write request body for ..."))
            raise failures[0]
        return session_request(*args, **kwargs)

    monkeypatch.setattr(request._session, "request", closed_on_first_write)
    try:
        async with _Server() as url:
            status, body = await request.do_request(
                f"{url}/bot1/sendDocument", "POST", request_data=_document(1000)
            )
    finally:
        await request.shutdown()
    assert (status, body) == (200, b'{"ok":true,"result":true}')
    assert len(failures) == 1


async def test_a_connection_reset_after_sending_is_not_sent_again():
    """Reset once the request may have been read: Telegram may have acted on it, so a second
    send could be a second message; the failure goes to the caller (the outbox retries its
    rows; a reply is lost rather than doubled)."""
    server = _Server(reset_first=True)
    request = AiohttpRequest()
    await request.initialize()
    try:
        async with server as url:
            with pytest.raises(NetworkError, match="reset"):
                await request.do_request(
                    f"{url}/bot1/sendDocument", "POST", request_data=_document(4_000_000)
                )
    finally:
        await request.shutdown()
    assert (server.connections, server.requests_read) == (1, [])


async def test_an_accepted_call_is_recorded_in_the_transports_thread_before_it_returns():
    """ON_ACCEPTED: the record follows Telegram's answer in the worker thread, not whenever the
    event loop gets to it; only for an accepted call; errors keep PTB's names."""
    import threading

    from bot.emulator import Emulator, EmulatorServer
    from bot.webhook.transport import ON_ACCEPTED

    emulator = Emulator()
    emulator.add_user(9, "Citizen")
    emulator.send_text(9, "/start")
    recorded: list[tuple[str, bytes]] = []

    def record(body: bytes) -> None:
        recorded.append((threading.current_thread().name, body))

    async with EmulatorServer(emulator) as server:
        request = AiohttpRequest()
        await request.initialize()
        url = f"{server.api_url}{emulator.token}/sendMessage"
        try:
            token = ON_ACCEPTED.set(record)
            try:
                status, body = await request.do_request(url, "POST", _message(9, "halo"))
                refused, _ = await request.do_request(url, "POST", _message(12345, "x"))
            finally:
                ON_ACCEPTED.reset(token)
            plain, _ = await request.do_request(url, "POST", _message(9, "no record"))
        finally:
            await request.shutdown()
    assert (status, refused, plain) == (200, 400, 200)
    assert [body_ for _, body_ in recorded] == [body]  # the refused and the plain call: none
    assert recorded[0][0] != threading.current_thread().name
    assert [m["text"] for m in emulator.bot_messages(9)] == ["halo", "no record"]


def _message(chat_id: int, text: str) -> RequestData:
    return RequestData([RequestParameter.from_input("chat_id", chat_id),
                        RequestParameter.from_input("text", text)])


async def test_a_recorded_call_to_nobody_is_a_network_error():
    from bot.webhook.transport import ON_ACCEPTED

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    token = ON_ACCEPTED.set(lambda body: None)
    try:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/bot1/sendMessage", "POST")
    finally:
        ON_ACCEPTED.reset(token)
        await request.shutdown()
