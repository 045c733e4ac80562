"""Refusing to run against a database migrated by a newer servicebot than this one."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.core.db import Database, alembic_config


class SchemaTooNew(Exception):
    """The database carries a migration this code does not know."""


def known_revisions(db: Database) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(db.url))
    return {rev.revision for rev in script.walk_revisions()}


def database_revisions(db: Database) -> tuple[str, ...]:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads()


def check_schema_not_newer(db: Database) -> None:
    """Raise SchemaTooNew when the database is at a revision missing from this code.

    That happens after a rollback of the code without a rollback of the database: running on
    would read and write tables whose shape this code does not expect.
    """
    unknown = [rev for rev in database_revisions(db) if rev not in known_revisions(db)]
    if unknown:
        raise SchemaTooNew(
            f"the database schema is at revision {', '.join(unknown)}, newer than this version "
            "of servicebot knows; run the servicebot version that migrated it, or restore a "
            "backup taken before that upgrade (see docs/deployment.md)"
        )
