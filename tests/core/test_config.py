"""Configuration errors name the variable; the command line exits 2 without a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.core.config import load_settings
from bot.core.errors import ConfigError


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, env, name):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"{name}:")


def test_bad_setting_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "TIMEZONE": "Nowhere/Land", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "TIMEZONE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_admin_ids_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ADMIN_IDS", " 11, 22 ,33")
    assert load_settings().admin_ids == [11, 22, 33]
