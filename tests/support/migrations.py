"""A database migrated only up to an older revision, as an install was before a migration under
test: SQLite in the test's folder, or the session's PostgreSQL database emptied first."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.core.db import Database


def database_at(request: pytest.FixtureRequest, tmp_path, revision: str) -> Database:  # noqa: ANN001
    """``request.param`` is "sqlite" or "postgres" (a fixture parametrised like ``db``)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/old.db")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.upgrade(revision)
    return db
