"""Editing the knowledge base from the console: a file (office.yaml, a service, a situation,
a free-form entry, or a new entry) is changed as text, checked by the same validation as
`servicebot knowledge check` on a copy of the whole knowledge base, written atomically, kept
in the history with the text before, and then served by every instance (``publish``).
"""

from __future__ import annotations

import json
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
from bot.conversation.library import Library, load_library
from bot.core.runtime import Runtime
from bot.people.roles import audit
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase, KnowledgeError
from bot.qa.loader import load_knowledge, read_yaml
from bot.reload import load, reload, switch

MAX_FILE_CHARS = 100_000
FOLDERS = ("entries", "situations")  # of the files edited by their id beside the services
ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ENTRY_ID = 40
# The amount line of a block-style ``fee:`` mapping, for the form's fee field.
_FEE_AMOUNT = re.compile(r"(^fee:[ \t]*\n(?:(?:[ \t]+.*)?\n)*?[ \t]+amount:[ \t]*)([^\n#]*)", re.M)


@dataclass(frozen=True)
class Checked:
    """A candidate file: the knowledge base it makes, or the problems that refuse it."""

    text: str
    knowledge: KnowledgeBase | None
    problems: tuple[str, ...]
    library: Library | None = None  # the situations and entries beside it


def knowledge_file(rt: Runtime, key: str) -> Path | None:
    """office.yaml for the key "office", else the file of that service."""
    if key == OFFICE_ID:
        return Path(rt.knowledge.directory) / "office.yaml"
    return service_file(rt, key) if key in rt.knowledge.services else None


def service_file(rt: Runtime, service_id: str) -> Path | None:
    """The file that defines a service (services/<id>.yaml by convention, else by its id)."""
    return _file_of(Path(rt.knowledge.directory) / "services", service_id)


def item_file(rt: Runtime, folder: str, item_id: str) -> Path | None:
    """The file of a situation or a free-form entry (``folder``: situations or entries)."""
    if folder not in FOLDERS or not ENTRY_ID.match(item_id):
        return None
    return _file_of(Path(rt.knowledge.directory) / folder, item_id)


def item_ids(rt: Runtime, folder: str) -> list[str]:
    """The ids of the situations or entries, as their files give them (sorted)."""
    ids = []
    for path in sorted((Path(rt.knowledge.directory) / folder).glob("*.yaml")):
        data = _read(path)
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.append(data["id"])
    return sorted(ids)


def _read(path: Path) -> object:
    """A knowledge file's data as the loader reads it (None when it cannot be read)."""
    return read_yaml(path, str(path))[0]


def _file_of(folder: Path, item_id: str) -> Path | None:
    conventional = folder / f"{item_id}.yaml"
    if conventional.is_file():
        return conventional
    for path in sorted(folder.glob("*.yaml")):
        data = _read(path)
        if isinstance(data, dict) and data.get("id") == item_id:
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
        target = copy / path.relative_to(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        kb: KnowledgeBase | None = None
        library: Library | None = None
        problems: list[str] = []
        try:
            kb = load_knowledge(copy)
            problems = [str(p) for p in status_mapping_problems(kb)]
            # The situations and entries beside the services must stay valid too (a reload
            # checks them as well).
            library = load_library(kb)
        except KnowledgeError as exc:
            problems += [str(p) for p in exc.problems]
        shown = tuple(p.replace(str(copy) + os.sep, "").replace(str(copy), "knowledge")
                      for p in problems)
    valid = not shown
    return Checked(text, kb if valid else None, shown, library if valid else None)


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
    path.parent.mkdir(parents=True, exist_ok=True)
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


# --- a question turned into an answer (the unanswered-questions page) ----------------------------


def new_entry_path(rt: Runtime, entry_id: str) -> Path | None:
    """Where a new free-form entry goes: entries/<id>.yaml, None when the id is not a valid
    one or an entry (or a file) of that id exists."""
    if not ENTRY_ID.match(entry_id) or len(entry_id) > MAX_ENTRY_ID:
        return None
    if item_file(rt, "entries", entry_id) is not None:
        return None
    return Path(rt.knowledge.directory) / "entries" / f"{entry_id}.yaml"


def _words(text: str) -> list[str]:
    """Keywords as written in the form: one per line or comma-separated."""
    return [w.strip() for w in re.split(r"[,\n]", text) if w.strip()]


def entry_text(
    entry_id: str, *, question: dict[str, str], keywords: dict[str, str],
    answer: dict[str, str],
) -> str:
    """The YAML of a free-form entry from the form's fields (English left out when empty)."""
    def text(values: dict[str, str]) -> dict[str, str]:
        return {k: " ".join(v.split()) for k, v in values.items() if v.strip()}

    data = {
        "id": entry_id,
        "question": text(question),
        "keywords": {k: _words(v) for k, v in keywords.items() if _words(v)},
        "answer": text(answer),
    }
    return ("# A plain question and answer, made in the staff console from a question the bot "
            "could not answer.\n# The format is in docs/knowledge-base.md.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))


_ALIASES = re.compile(r"^aliases:[ \t]*(?:#.*)?\n((?:(?:[ \t]+.*)?\n)*)", re.M)


def with_alias(text: str, locale: str, phrase: str) -> str | None:
    """The service file with ``phrase`` added to its ``aliases`` in ``locale`` (the rest,
    comments too, untouched); None when the file writes its aliases in a way this cannot edit
    (then the form shows the file to edit by hand)."""
    quoted = json.dumps(" ".join(phrase.split()), ensure_ascii=False)  # valid YAML too
    found = _ALIASES.search(text)
    if found is None:
        if re.search(r"^aliases:", text, re.M):
            return None  # a flow-style mapping on the key's line
        return text.rstrip("\n") + f"\naliases:\n  {locale}: [{quoted}]\n"
    block = found.group(1)
    flow = re.search(rf"^([ \t]+){locale}:[ \t]*\[(.*)\][ \t]*(#.*)?$", block, re.M)
    if flow is not None:
        items = flow.group(2).rstrip()
        line = f"{flow.group(1)}{locale}: [{items + ', ' if items else ''}{quoted}]"
        if flow.group(3):
            line += " " + flow.group(3)
        block = block[:flow.start()] + line + block[flow.end():]
    elif listed := re.search(rf"^([ \t]+){locale}:[ \t]*\n((?:\1[ \t]+- .*\n)+)", block, re.M):
        last = listed.group(2).splitlines()[-1]
        indent = last[: len(last) - len(last.lstrip())]
        block = block[:listed.end()] + f"{indent}- {quoted}\n" + block[listed.end():]
    elif re.search(rf"^[ \t]+{locale}:", block, re.M):
        return None
    else:
        indent = re.match(r"[ \t]+", block)
        block = f"{indent.group(0) if indent else '  '}{locale}: [{quoted}]\n" + block
    return text[:found.start(1)] + block + text[found.end(1):]
