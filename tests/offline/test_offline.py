"""`servicebot offline` (and `run` without a token) as a user starts it: a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"Open (http://127\.0\.0\.1:(\d+)) in your browser")


def _start(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "PORT")
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/offline.db",
        KNOWLEDGE_DIR=str(REPO / "knowledge"),
        PYTHONUNBUFFERED="1",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,  # no .env from the repository
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _address(proc: subprocess.Popen) -> tuple[list[str], str, int]:
    """Read stdout up to the address line: (lines read, url, port)."""
    lines: list[str] = []
    found: list[re.Match] = []

    def read() -> None:
        # A thread, so that a process that hangs silently fails the test instead of blocking it.
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if match := ADDRESS.search(line):
                found.append(match)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    if not found:
        proc.kill()
        pytest.fail(f"no address printed within 30 s: {lines} {proc.stderr.read()}")
    return lines, found[0].group(1), int(found[0].group(2))


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _stop(proc: subprocess.Popen, sig: int) -> tuple[str, str]:
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("did not stop within 15 s of the signal")
    return out, err


def test_offline_serves_the_chat_and_the_bot_answers(tmp_path):
    proc = _start(tmp_path, "offline", "--port", "0")
    try:
        _, url, port = _address(proc)
        status, page = _get(url + "/")
        assert status == 200
        assert b'<script src="/static/webchat.js">' in page
        assert _get(url + "/static/webchat.js")[0] == 200
        # The demo offers roles to new users (tests/offline/test_roles.py).
        assert json.loads(_get(url + "/_offline/roles")[1])["roles"][-1] == "admin"

        # The unchanged bot is polling the emulator: a user's /start gets the greeting.
        _post(url + "/_emulator/users", {"id": 501, "first_name": "Sari", "language_code": "id"})
        _post(url + "/_emulator/users/501/messages", {"text": "/start"})
        deadline = time.monotonic() + 15
        greeting = None
        while greeting is None and time.monotonic() < deadline:
            _, body = _get(url + "/_emulator/users/501/messages?after=0&timeout=5")
            bot_events = [e for e in json.loads(body)["events"] if e["kind"] == "bot"]
            greeting = bot_events[0]["message"]["text"] if bot_events else None
        assert greeting is not None and greeting.startswith("Halo!")

        # The same port again: one clear line, exit status 2, no traceback.
        second = _start(tmp_path, "offline", "--port", str(port))
        out, err = second.communicate(timeout=30)
        assert second.returncode == 2
        assert err.strip().splitlines() == [
            f"cannot listen on 127.0.0.1:{port}: Address already in use; "
            "choose another port with --port N or PORT=N"
        ]
        assert "Open http" not in out
    finally:
        out, err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out.strip().endswith("Stopped.")


def test_run_without_a_token_starts_the_offline_chat(tmp_path):
    proc = _start(tmp_path, "run", PORT="0")
    try:
        lines, _url, _port = _address(proc)
        assert lines[0].startswith("No TELEGRAM_BOT_TOKEN set: starting the offline web chat.")
        assert "TELEGRAM_BOT_TOKEN=" in lines[0]
    finally:
        out, err = _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_a_bad_port_is_a_configuration_error(tmp_path):
    proc = _start(tmp_path, "offline", PORT="70000")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.strip().startswith("configuration error: PORT: must be a TCP port number")


async def test_one_long_poll_follows_several_chats():
    """GET /_emulator/events: what the web chat polls for all its open chats at once."""
    import asyncio

    import httpx

    from bot.emulator import Emulator, EmulatorServer

    emulator = Emulator()
    async with EmulatorServer(emulator) as server, httpx.AsyncClient() as client:
        for user_id in (1, 2, 3):
            emulator.add_user(user_id, f"User {user_id}")
        emulator.send_text(1, "one")
        emulator.send_text(3, "three")
        url = f"{server.base_url}/_emulator/events"
        first = (await client.get(url, params={"chat_id": [1, 2], "after": 0})).json()
        assert [(e["chat_id"], e["message"]["text"]) for e in first["events"]] == [(1, "one")]
        assert first["last"] == 2  # past chat 3's event too: it is never sent again

        waiting = asyncio.create_task(
            client.get(url, params={"chat_id": [1, 2], "after": first["last"], "timeout": 5})
        )
        await asyncio.sleep(0.05)
        emulator.send_text(3, "not followed")
        emulator.send_text(2, "two")
        second = (await waiting).json()
        assert [(e["chat_id"], e["message"]["text"]) for e in second["events"]] == [(2, "two")]
        assert second["last"] == 4
        bad = await client.get(url, params={"chat_id": "x"})
        assert bad.status_code == 400
