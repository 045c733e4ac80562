"""A whole database as text, every table and every column, to look for what must not be there
(a person after /hapusdata): SQLite's own dump, or every PostgreSQL table's rows as text."""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import create_engine, text


def dump_database(url: str) -> str:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1])
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    engine = create_engine(url)
    lines = []
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars().all()
            for table in tables:
                rows = conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars().all()
                lines += [f"{table}: {row}" for row in rows]
    finally:
        engine.dispose()
    return "\n".join(lines)


def lines_with(dump: str, needles: list[str]) -> list[str]:
    """The dump's lines holding one of ``needles`` (any case), with the needle found."""
    found = []
    for line in dump.splitlines():
        for needle in needles:
            if re.search(re.escape(needle), line, re.IGNORECASE):
                found.append(f"{needle!r} in: {line[:300]}")
    return found
