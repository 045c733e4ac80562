"""Knowledge changes without a restart: a reload validates the knowledge folder and, only when
it is valid, publishes a new version in the database; every instance polls that version and
switches its knowledge base, matcher and calendar when it changes."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from bot.applications.statuses import status_mapping_problems
from bot.conversation.library import load_library
from bot.core.config import Settings
from bot.core.db import Database, reads_only
from bot.core.models import UtcDateTime, utcnow
from bot.core.runtime import Runtime
from bot.core.workdays import WorkingCalendar
from bot.qa.knowledge import KnowledgeBase, KnowledgeError
from bot.qa.loader import load_knowledge
from bot.qa.matching import Matcher

log = logging.getLogger(__name__)

POLL_SECONDS = 30  # every instance looks at the published version this often


class KnowledgeVersion(SQLModel, table=True):
    """The knowledge base every instance should serve: one row, bumped by each reload."""

    __tablename__ = "knowledge_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    fingerprint: str = Field(default="", max_length=64)  # sha256 of the validated files
    services: int = 0
    changed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    changed_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


def fingerprint(directory: Path) -> str:
    """A digest of every YAML file in the folder (names and contents): two machines serve the
    same knowledge exactly when their folders have the same fingerprint."""
    digest = hashlib.sha256()
    directory = Path(directory)
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(str(path.relative_to(directory)).encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class Loaded:
    """A validated knowledge base with what is built from it, ready to switch to."""

    knowledge: KnowledgeBase
    matcher: Matcher
    calendar: WorkingCalendar
    fingerprint: str


def load(settings: Settings) -> Loaded:
    """Read and validate the knowledge folder as start-up does; KnowledgeError (with file:line
    problems) when it is invalid. Nothing is switched here."""
    directory = Path(settings.knowledge_dir)
    before = fingerprint(directory)
    knowledge = load_knowledge(directory)
    problems = status_mapping_problems(knowledge)
    if problems:
        raise KnowledgeError(problems)
    load_library(knowledge)  # the situations and entries beside the services must be valid too
    return Loaded(
        knowledge=knowledge,
        matcher=Matcher(knowledge),
        calendar=WorkingCalendar(settings.tz, closed_dates=knowledge.office.closed_dates),
        fingerprint=before,
    )


def published(db: Database) -> tuple[int, str]:
    """(version, fingerprint) every instance should serve; (0, "") before the first reload."""
    row = db.lookup("SELECT version, fingerprint FROM knowledge_version WHERE id = 1")
    return (int(row[0]), str(row[1])) if row is not None else (0, "")


def publish(db: Database, loaded: Loaded, *, actor_id: int | None = None) -> int:
    """Make ``loaded`` the version to serve; returns the new version number."""
    with db.session() as session:
        row = session.get(KnowledgeVersion, 1, with_for_update=True)
        if row is None:
            row = KnowledgeVersion(id=1, version=0)
        row.version += 1
        row.fingerprint = loaded.fingerprint
        row.services = len(loaded.knowledge.services)
        row.changed_by = actor_id
        row.changed_at = utcnow()
        session.add(row)
        session.flush()
        version = row.version
    return version


def switch(rt: Runtime, loaded: Loaded, version: int) -> None:
    """Serve ``loaded`` from now on. No await between the assignments: a handler sees the
    old knowledge base and matcher, or the new ones, never one of each."""
    rt.knowledge = loaded.knowledge
    rt.matcher = loaded.matcher
    rt.calendar = loaded.calendar
    rt.knowledge_version = version
    for subscriber in rt.events.knowledge_reloaded:
        subscriber(rt)


def reload(rt: Runtime, *, actor_id: int | None = None) -> tuple[int, Loaded]:
    """Validate the folder, publish it and switch this instance at once (the others follow
    within POLL_SECONDS). KnowledgeError when invalid: nothing changes anywhere."""
    loaded = load(rt.settings)
    version = publish(rt.db, loaded, actor_id=actor_id)
    switch(rt, loaded, version)
    return version, loaded


def remember_served(rt: Runtime) -> None:
    """At start-up: the knowledge just loaded is the published version (or older and about to
    be replaced by the next poll, if the folder differs)."""
    version, published_fingerprint = published(rt.db)
    if version and published_fingerprint != fingerprint(Path(rt.settings.knowledge_dir)):
        rt.knowledge_version = -1  # the next poll loads the published one
        return
    rt.knowledge_version = version


def prepare(rt: Runtime) -> tuple[int, Loaded] | None:
    """The published version, loaded and validated, when this instance serves another; None
    when there is nothing to switch to. Only reads, so it may run in a worker thread.

    The folder is read again and must be valid and match the published fingerprint (another
    machine's folder may still be being copied): otherwise the old knowledge keeps serving
    and the next poll tries again (the warning is logged once per version)."""
    with reads_only():  # a worker thread that must not hold writers up (bot/core/db.py)
        version, wanted = published(rt.db)
    if version == rt.knowledge_version:
        return None
    try:
        loaded = load(rt.settings)
    except KnowledgeError as exc:
        reason = "the folder is invalid here: " + "; ".join(str(p) for p in exc.problems[:3])
        loaded = None
    else:
        reason = ("this machine's folder differs from the one the reload validated; copy the "
                  "same files here")
    if loaded is not None and loaded.fingerprint == wanted:
        return version, loaded
    if rt.knowledge_refused != version:
        rt.knowledge_refused = version
        log.warning("knowledge version %s not taken, the old one keeps serving: %s",
                    version, reason)
    return None
