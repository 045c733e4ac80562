"""The settings of webhook mode: a bad secret or token is named, and `serve` exits 2 without a
traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from bot.core.config import load_settings
from bot.core.errors import ConfigError


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünïcode"])
def test_bad_webhook_secret_names_the_variable(monkeypatch, secret):
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError, match="^WEBHOOK_SECRET:"):
        load_settings()


def test_serve_without_secret_explains_and_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "1:x",
             "WEBHOOK_URL": "https://bot.example.go.id"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "WEBHOOK_SECRET" in proc.stderr and "token_urlsafe" in proc.stderr
    assert "WEBHOOK_URL " not in proc.stderr.split("needs", 1)[1].splitlines()[0]


async def test_serve_with_a_rejected_token_says_so_in_one_line_and_exits_2(tmp_path):
    import socket
    from pathlib import Path

    from bot.emulator.server import EmulatorServer

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with EmulatorServer() as emulator:  # knows only its own token
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve",
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root),
                 "TELEGRAM_BOT_TOKEN": "123:REVOKED", "TELEGRAM_API_BASE_URL": emulator.api_url,
                 "WEBHOOK_URL": "https://bot.example.go.id", "WEBHOOK_SECRET": "s3cret",
                 "WEBHOOK_PORT": str(port), "KNOWLEDGE_DIR": str(root / "knowledge"),
                 "DATABASE_URL": f"sqlite:///{tmp_path}/bot.core.db"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode == 2, stderr
    assert "configuration error: TELEGRAM_BOT_TOKEN: Telegram rejected the token" in stderr
    assert "Traceback" not in stderr and "REVOKED" not in stderr
