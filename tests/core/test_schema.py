"""The schema guard and database errors at start: clear lines, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.schema import SchemaTooNew, check_schema_not_newer

# --- schema guard -------------------------------------------------------------------------


def test_a_newer_schema_is_refused(sqlite_db, tmp_path):
    check_schema_not_newer(sqlite_db)  # at our own head: fine
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(SchemaTooNew, match="0099_from_the_future"):
        check_schema_not_newer(sqlite_db)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": sqlite_db.url},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "refusing to start" in proc.stderr and "0099_from_the_future" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"]])
def test_an_unreachable_database_is_told_in_two_lines(tmp_path, command):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "DATABASE_URL": "postgresql+psycopg://bot:s3cret@127.0.0.1:9/none?connect_timeout=2",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "WEBHOOK_URL": "https://bot.example.go.id",
            "WEBHOOK_SECRET": "a-long-enough-secret-token",
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 69, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("cannot connect to the database: ")
    assert "Connection refused" in lines[0]
    assert len(lines) == 2 and "DATABASE_URL" in lines[1]
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr


def _upgrade(tmp_path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": url},
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )


def test_a_sqlite_file_that_cannot_be_created_is_a_configuration_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for url in (f"sqlite:///{blocked}/sub/bot.db", "sqlite:////nonexistent/dir/x.db"):
        proc = _upgrade(tmp_path, url)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("configuration error: DATABASE_URL: the folder ")
        assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (blocked / "sub").exists() and not Path("/nonexistent").exists()


def test_only_the_default_data_folder_is_created(tmp_path):
    proc = _upgrade(tmp_path, "sqlite:///data/servicebot.db")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "servicebot.db").is_file()
    (tmp_path / "data-blocked").write_text("a file where the folder would go")
    proc = _upgrade(tmp_path, "sqlite:///data-blocked/x/servicebot.db")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
