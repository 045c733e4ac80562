"""HTTP face of the emulator: Bot API, file downloads and the /_emulator user API (Starlette)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.parser
import email.policy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.emulator.core import BotApiError, Emulator, Upload

STATIC_DIR = Path(__file__).parent / "static"
POLL_LIMIT = 30.0  # seconds a user-side long poll may wait


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(exc: BotApiError) -> JSONResponse:
    return JSONResponse(exc.payload(), status_code=exc.code)


def _user_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


async def read_params(request: Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Query string plus body, whichever way the Bot API accepts it: JSON, form or multipart."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, Upload] = {}
    if request.method != "POST":
        return params, files
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if not body:
        return params, files
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BotApiError(400, "Bad Request: can't parse JSON encoded request") from None
        if not isinstance(data, dict):
            raise BotApiError(400, "Bad Request: request must be a JSON object")
        params.update(data)
    elif content_type.startswith("multipart/form-data"):
        fields, files = _parse_multipart(content_type, body)
        params.update(fields)
    else:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params, files


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    # The stdlib MIME parser reads multipart/form-data fine once given the header line.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BotApiError(400, "Bad Request: can't parse multipart request")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = Upload(
                filename=filename,
                data=payload,
                content_type=part.get_content_type() or "application/octet-stream",
            )
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[str(name)] = payload.decode(charset, "replace")
    return fields, files


def create_app(emulator: Emulator) -> Starlette:
    """The Starlette application serving one emulator."""

    async def bot_api(request: Request) -> Response:
        if request.path_params["token"] != emulator.token:
            return _error(BotApiError(401, "Unauthorized"))
        try:
            params, files = await read_params(request)
            result = await emulator.call(request.path_params["method"], params, files)
        except BotApiError as exc:
            return _error(exc)
        return _ok(result)

    async def download(request: Request) -> Response:
        if request.path_params["token"] != emulator.token:
            return _error(BotApiError(401, "Unauthorized"))
        stored = emulator.file_by_path(request.path_params["path"])
        if stored is None or stored.data is None:
            return _error(BotApiError(404, "Not Found"))
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    async def raw_file(request: Request) -> Response:
        stored = emulator.files.get(request.path_params["file_id"])
        if stored is None or stored.data is None:
            return _user_error(404, "no such file")
        headers = {}
        if stored.file_name:
            # The web chat offers documents under the name the sender gave them.
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(stored.file_name)}"
        return Response(
            stored.data, media_type=stored.mime_type or "image/jpeg", headers=headers
        )

    async def users(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"ok": True, "users": list(emulator.users.values())})
        data = await _json(request)
        try:
            user = emulator.add_user(
                int(data["id"]),
                str(data.get("first_name") or "Citizen"),
                data.get("language_code") or "id",
                last_name=data.get("last_name"),
                username=data.get("username"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return _user_error(400, f"bad user: {exc}")
        return JSONResponse({"ok": True, "user": user})

    async def groups(request: Request) -> Response:
        data = await _json(request)
        try:
            chat = emulator.add_group(int(data["id"]), str(data.get("title") or "Officers"))
        except (KeyError, TypeError, ValueError) as exc:
            return _user_error(400, f"bad group: {exc}")
        return JSONResponse({"ok": True, "chat": chat})

    async def chat_messages(request: Request) -> Response:
        """GET: events after ?after=N, long-polling up to ?timeout= seconds. POST: write."""
        try:
            chat_id = int(request.path_params["chat_id"])
            user_id = int(request.query_params.get("user_id", chat_id))
        except ValueError:
            return _user_error(400, "ids are integers")
        if request.method == "POST":
            return await _user_writes(request, user_id=user_id, chat_id=chat_id)
        return await _poll(request, chat_id)

    async def user_messages(request: Request) -> Response:
        try:
            user_id = int(request.path_params["user_id"])
        except ValueError:
            return _user_error(400, "ids are integers")
        if request.method == "POST":
            return await _user_writes(request, user_id=user_id, chat_id=user_id)
        return await _poll(request, user_id)

    async def _poll(request: Request, chat_id: int) -> Response:
        try:
            after = int(request.query_params.get("after", 0))
            timeout = min(float(request.query_params.get("timeout", 0)), POLL_LIMIT)
        except ValueError:
            return _user_error(400, "after and timeout are numbers")
        events = await emulator.wait_for(lambda: emulator.chat_events(chat_id, after), timeout)
        return JSONResponse(
            {
                "ok": True,
                "events": [e.as_dict() for e in events or []],
                "last": max([after] + [e.seq for e in events or []]),
            }
        )

    async def all_events(request: Request) -> Response:
        """Events of several chats (?chat_id=1&chat_id=2) after ?after=N, in one long poll:
        a browser opens at most six connections to a host, and the web chat shows many chats."""
        try:
            chat_ids = {int(c) for c in request.query_params.getlist("chat_id")}
            after = max(int(request.query_params.get("after", 0)), 0)
            timeout = min(float(request.query_params.get("timeout", 0)), POLL_LIMIT)
        except ValueError:
            return _user_error(400, "chat_id, after and timeout are numbers")

        def pending() -> list[Any]:
            # seq n is events[n - 1]: the events after ``after`` are one slice.
            return [e for e in emulator.events[after:] if e.chat_id in chat_ids]

        events = await emulator.wait_for(pending, timeout)
        return JSONResponse(
            {
                "ok": True,
                "events": [e.as_dict() for e in events or []],
                "last": max(after, len(emulator.events)),
            }
        )

    async def _user_writes(request: Request, *, user_id: int, chat_id: int) -> Response:
        data = await _json(request)
        try:
            if "text" in data:
                message = emulator.send_text(user_id, str(data["text"]), chat_id=chat_id)
            elif "location" in data:
                loc = data["location"]
                message = emulator.send_location(
                    user_id, float(loc["latitude"]), float(loc["longitude"]), chat_id=chat_id,
                    live_period=loc.get("live_period"),
                )
            elif "contact" in data:
                message = emulator.send_contact(
                    user_id, str(data["contact"]["phone_number"]), chat_id=chat_id
                )
            elif "photo" in data:
                message = emulator.send_photo(
                    user_id,
                    base64.b64decode(data["photo"]),
                    data.get("caption"),
                    chat_id=chat_id,
                )
            elif "document" in data:
                doc = data["document"]
                message = emulator.send_document(
                    user_id,
                    str(doc["file_name"]),
                    base64.b64decode(doc["data"]),
                    str(doc.get("mime_type") or "application/octet-stream"),
                    data.get("caption"),
                    chat_id=chat_id,
                )
            else:
                return _user_error(400, "send one of text, location, contact, photo, document")
        except (KeyError, TypeError, ValueError) as exc:
            return _user_error(400, f"bad message: {exc}")
        return JSONResponse({"ok": True, "message": message})

    async def click(request: Request) -> Response:
        data = await _json(request)
        try:
            user_id = int(request.path_params["user_id"])
            chat_id = int(data.get("chat_id", user_id))
            query_id = emulator.click(
                user_id, chat_id, int(data["message_id"]), str(data["data"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            return _user_error(400, f"bad click: {exc}")
        return JSONResponse({"ok": True, "callback_query_id": query_id})

    async def callback_answer(request: Request) -> Response:
        query_id = request.path_params["query_id"]
        timeout = min(float(request.query_params.get("timeout", 0)), POLL_LIMIT)
        answer = await emulator.wait_for(lambda: emulator.callback_answer(query_id), timeout)
        return JSONResponse({"ok": True, "answer": answer})

    async def block(request: Request) -> Response:
        data = await _json(request)
        try:
            emulator.block(int(request.path_params["user_id"]), bool(data.get("blocked", True)))
        except (KeyError, ValueError) as exc:
            return _user_error(400, f"bad block: {exc}")
        return JSONResponse({"ok": True})

    async def bot_info(request: Request) -> Response:
        return JSONResponse({"ok": True, "bot": emulator.bot_user})

    async def chats(request: Request) -> Response:
        return JSONResponse({"ok": True, "chats": list(emulator.chats.values())})

    async def commands(request: Request) -> Response:
        user_id = int(request.path_params["user_id"])
        chat_id = int(request.query_params.get("chat_id", user_id))
        return JSONResponse({"ok": True, "commands": emulator.commands_for(user_id, chat_id)})

    async def index(request: Request) -> Response:
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page)
        return PlainTextResponse("Telegram Bot API emulator: /bot<token>/<method>, /_emulator/")

    routes = [
        Route("/bot{token}/{method}", bot_api, methods=["GET", "POST"]),
        Route("/file/bot{token}/{path:path}", download),
        Route("/_emulator/bot", bot_info),
        Route("/_emulator/chats", chats),
        Route("/_emulator/users", users, methods=["GET", "POST"]),
        Route("/_emulator/groups", groups, methods=["POST"]),
        Route("/_emulator/events", all_events),
        Route("/_emulator/users/{user_id}/messages", user_messages, methods=["GET", "POST"]),
        Route("/_emulator/users/{user_id}/click", click, methods=["POST"]),
        Route("/_emulator/users/{user_id}/block", block, methods=["POST"]),
        Route("/_emulator/users/{user_id}/commands", commands),
        Route("/_emulator/chats/{chat_id}/messages", chat_messages, methods=["GET", "POST"]),
        Route("/_emulator/callback_answers/{query_id}", callback_answer),
        Route("/_emulator/files/{file_id}", raw_file),
        Route("/", index),
    ]
    if STATIC_DIR.is_dir():
        routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"))
    return Starlette(routes=routes)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class _Server(uvicorn.Server):
    """uvicorn, stopping at once and without its signal handlers unless asked.

    Ctrl-C belongs to whoever embeds the emulator. uvicorn's own loop notices a stop request
    only every 0.1 s and its shutdown sleeps another 0.1 s; hundreds of end-to-end tests each
    start and stop a server, so here stopping is event-driven.
    """

    def __init__(self, config: uvicorn.Config, handle_signals: bool) -> None:
        super().__init__(config)
        self.handle_signals = handle_signals
        self.exit_requested = asyncio.Event()

    def request_exit(self) -> None:
        self.should_exit = True
        self.exit_requested.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the Date header once
        await self.exit_requested.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = asyncio.get_running_loop().time() + self.config.timeout_graceful_shutdown
        while self.server_state.connections or self.server_state.tasks:
            if asyncio.get_running_loop().time() > deadline:
                for task in self.server_state.tasks:
                    task.cancel()
                break
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self.handle_signals:
            with super().capture_signals():
                yield
        else:
            yield


class EmulatorServer:
    """Serve an emulator over HTTP on the running event loop.

    ``port=0`` picks a free port. A port in use raises OSError from start().
    """

    def __init__(
        self,
        emulator: Emulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        handle_signals: bool = False,
    ) -> None:
        self.emulator = emulator or Emulator()
        self.host = host
        self.port = port
        self.handle_signals = handle_signals
        self._server: _Server | None = None
        self._task: asyncio.Task | None = None
        self.app: Starlette | None = None
        self._extra_routes: list[Any] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to for a bot using this emulator."""
        return f"{self.base_url}/bot"

    async def start(self) -> None:
        # proto=IPPROTO_TCP, or asyncio skips TCP_NODELAY on accepted connections and every
        # response waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.emulator.closing = False  # it may have served before (a restart)
        # Kept so that the offline mode can add the staff console's routes to it.
        self.app = create_app(self.emulator)
        self.app.router.routes[:0] = self._extra_routes
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            # Longer than the bot's client keeps an idle connection (aiohttp: 15 s): a server
            # closing it first races the client's next request on it ("connection reset").
            timeout_keep_alive=75,
        )
        self._server = _Server(config, self.handle_signals)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the emulator server stopped during start-up")
            await asyncio.sleep(0.01)

    def add_routes(self, routes: list[Any]) -> None:
        """Serve more pages beside the emulator's (the bot's own public pages in offline mode),
        from now on and after a restart."""
        self._extra_routes[:0] = routes
        if self.app is not None:
            self.app.router.routes[:0] = routes

    async def stop(self) -> None:
        self.emulator.close()
        if self._server is not None and self._task is not None:
            self._server.request_exit()
            await self._task
        self._server = None
        self._task = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
