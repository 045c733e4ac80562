"""PostgreSQL at start: instances migrate a new database once, and options in DATABASE_URL are
kept."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from bot.core.db import Database
from bot.core.schema import check_schema_not_newer


@pytest.mark.postgres
def test_instances_started_together_on_a_new_database_migrate_it_once(postgres_url):
    """Each instance migrates at start; on a new database they take turns (an advisory lock),
    and the later ones find it done, instead of failing on tables the first one created."""
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()
    script = "import sys; from bot.core.db import Database; Database(sys.argv[1]).upgrade()"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, postgres_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(proc.wait(timeout=120), proc.stderr.read()) for proc in starts]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    db = Database(postgres_url)
    try:
        check_schema_not_newer(db)
        with db.engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(heads) == 1
    finally:
        db.dispose()



@pytest.mark.postgres
def test_options_in_the_database_url_are_kept_beside_the_bots_own(postgres_url):
    separator = "&" if "?" in postgres_url else "?"
    db = Database(f"{postgres_url}{separator}options=-c%20statement_timeout%3D12345")
    try:
        for engine in (db.engine, db.bookkeeping):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "12345ms"
                assert conn.exec_driver_sql("SHOW tcp_keepalives_idle").scalar() == "30"
        with db.bookkeeping.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    finally:
        db.dispose()
