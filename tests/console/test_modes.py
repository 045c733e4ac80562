"""The console is served in every mode: beside the webhook (`serve`), beside the web chat
(`offline`, a real process) and on 127.0.0.1:PORT beside long polling (`run` with a token)."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import urllib.request
from http.cookiejar import CookieJar

import httpx

from bot.app import build_application, build_runtime
from bot.console.serving import ConsoleServer
from bot.core.config import PROJECT_ROOT, load_settings
from bot.webhook.server import create_server_app
from tests.offline.test_offline import _address, _get, _post, _start, _stop


def _settings(tmp_path, **extra):  # noqa: ANN001, ANN202
    return load_settings(
        database_url=f"sqlite:///{tmp_path}/modes.db", telegram_bot_token="123:abc",
        knowledge_dir=PROJECT_ROOT / "knowledge", _env_file=None, **extra,
    )


async def test_serve_mode_has_the_console_beside_the_webhook(tmp_path):
    rt = build_runtime(_settings(tmp_path, webhook_url="https://bot.example.go.id",
                                 webhook_secret="s3cret", public_url="https://bot.example.go.id"))
    app = create_server_app(rt, build_application(rt), set_webhook=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/ikm")).status_code == 200
        assert (await client.get("/console/")).status_code == 401
        assert (await client.get("/console/static/console.css")).status_code == 200
    rt.db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_polling_mode_serves_the_console_on_the_local_port(tmp_path, caplog):
    port = _free_port()
    rt = build_runtime(_settings(tmp_path, port=port))
    build_application(rt)  # the features register their pages, as `servicebot run` does
    server = ConsoleServer(rt)
    try:
        assert server.start()
        assert _get(f"http://127.0.0.1:{port}/ikm")[0] == 200
        # A second process on the same port: a warning, and its bot runs on without a console.
        second = ConsoleServer(rt)
        assert not second.start()
        assert "the staff console is not served" in caplog.text
        second.stop()
    finally:
        server.stop()
        rt.db.dispose()


def test_offline_mode_gives_a_working_link_in_the_web_chat(tmp_path):
    proc = _start(tmp_path, "offline", "--port", "0", ADMIN_IDS="501")
    try:
        _, url, _port = _address(proc)
        assert _get(url + "/ikm")[0] == 200
        _post(url + "/_emulator/users", {"id": 501, "first_name": "Admin", "language_code": "id"})
        _post(url + "/_emulator/users/501/messages", {"text": "/konsol"})
        link = None
        deadline = time.monotonic() + 15
        while link is None and time.monotonic() < deadline:
            _, body = _get(url + "/_emulator/users/501/messages?after=0&timeout=5")
            for event in json.loads(body)["events"]:
                found = re.search(r"http://\S+/console/login/[\w-]+",
                                  (event.get("message") or {}).get("text", ""))
                link = link or (found.group(0) if found else None)
        assert link is not None and link.startswith(url + "/console/login/")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(urllib.request.Request(link, data=b""), timeout=10) as answer:
            assert answer.status == 200 and b"/console/applications" in answer.read()
    finally:
        _stop(proc, signal.SIGINT)
