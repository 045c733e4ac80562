"""Editing the knowledge base from the console: a service file is changed as text, checked by
the same validation as `servicebot knowledge check` on a copy of the whole knowledge base,
written atomically, kept in the history with the text before, and loaded by this instance.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlmodel import Session, col, select

from bot.applications.statuses import status_mapping_problems
from bot.console.models import KnowledgeEdit
from bot.core.runtime import Runtime
from bot.people.roles import audit
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase, KnowledgeError
from bot.qa.loader import load_knowledge
from bot.reload import load, reload, switch

MAX_FILE_CHARS = 100_000
# The amount line of a block-style ``fee:`` mapping, for the form's fee field.
_FEE_AMOUNT = re.compile(r"(^fee:[ \t]*\n(?:(?:[ \t]+.*)?\n)*?[ \t]+amount:[ \t]*)([^\n#]*)", re.M)


@dataclass(frozen=True)
class Checked:
    """A candidate file: the knowledge base it makes, or the problems that refuse it."""

    text: str
    knowledge: KnowledgeBase | None
    problems: tuple[str, ...]


def knowledge_file(rt: Runtime, key: str) -> Path | None:
    """office.yaml for the key "office", else the file of that service."""
    if key == OFFICE_ID:
        return Path(rt.knowledge.directory) / "office.yaml"
    return service_file(rt, key) if key in rt.knowledge.services else None


def service_file(rt: Runtime, service_id: str) -> Path | None:
    """The file that defines a service (services/<id>.yaml by convention, else by its id)."""
    services = Path(rt.knowledge.directory) / "services"
    conventional = services / f"{service_id}.yaml"
    if conventional.is_file():
        return conventional
    for path in sorted(services.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("id") == service_id:
            return path
    return None


def fee_amount_of(text: str) -> str | None:
    """The fee amount as written in the file; None when the form cannot edit it (flow style)."""
    match = _FEE_AMOUNT.search(text)
    return match.group(2).strip() if match else None


def with_fee_amount(text: str, amount: str) -> str:
    """The file with another fee amount; the rest (comments too) untouched."""
    return _FEE_AMOUNT.sub(lambda m: m.group(1) + amount.strip(), text, count=1)


def check(rt: Runtime, path: Path, text: str) -> Checked:
    """Validate the knowledge base as it would be with ``text`` in ``path``."""
    directory = Path(rt.knowledge.directory)
    if len(text) > MAX_FILE_CHARS:
        return Checked(text, None, (f"{path.name}: longer than {MAX_FILE_CHARS:,} characters",))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "knowledge"
        shutil.copytree(directory, copy)
        (copy / path.relative_to(directory)).write_text(text, encoding="utf-8")
        try:
            kb = load_knowledge(copy)
            problems = [str(p) for p in status_mapping_problems(kb)]
        except KnowledgeError as exc:
            kb, problems = None, [str(p) for p in exc.problems]
        shown = tuple(p.replace(str(copy) + os.sep, "").replace(str(copy), "knowledge")
                      for p in problems)
    return Checked(text, kb if not shown else None, shown)


def save(session: Session, rt: Runtime, path: Path, text: str, *, actor_id: int) -> Checked:
    """Write the file if the knowledge base stays valid and keep the history (the caller
    publishes it once this is committed); the problems, and nothing written, otherwise."""
    checked = check(rt, path, text)
    if checked.knowledge is None:
        return checked
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    if before == text:
        return checked
    relative = str(path.relative_to(Path(rt.knowledge.directory)))
    session.add(KnowledgeEdit(path=relative, before=before, after=text, edited_by=actor_id))
    audit(session, actor_id=actor_id, action="knowledge.edit", subject=relative)
    session.flush()
    # Atomic: a reader (another instance reloading) sees the old file or the new one.
    temporary = path.with_suffix(path.suffix + ".saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return checked


def publish(rt: Runtime, *, actor_id: int) -> None:
    """After the save is committed: this instance answers from the files at once, and on
    PostgreSQL every other instance within a minute (the version bot/reload publishes and each
    instance polls). SQLite serves one process, and a version row written from this worker
    thread could meet the event loop's own transaction on a stale snapshot ("database is
    locked"), so there the instance only switches."""
    if rt.db.is_postgres:
        reload(rt, actor_id=actor_id)
    else:
        switch(rt, load(rt.settings), rt.knowledge_version)


def history(session: Session, path: str, *, limit: int = 20) -> list[KnowledgeEdit]:
    return list(session.exec(
        select(KnowledgeEdit).where(KnowledgeEdit.path == path)
        .order_by(col(KnowledgeEdit.at).desc(), col(KnowledgeEdit.id).desc()).limit(limit)
    ).all())
