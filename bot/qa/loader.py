"""Reading the knowledge folder: YAML parsed with the line of every value, validated into the
knowledge base, every problem reported at once as ``file:line: field: message``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.qa.knowledge import (
    KnowledgeBase,
    KnowledgeError,
    Office,
    Path_,
    Problem,
    Service,
)


def _lines(node: yaml.Node, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict:
    """Every path in the document mapped to the (1-based) line where it starts."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = key.start_mark.line + 1
            _lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)
    return out


def _field_name(loc: Path_) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(file)"


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (check the spelling)",
    "model_type": "expected fields here (name: value lines), see docs/knowledge-base.md",
    "list_type": "expected a list here (lines starting with '- ')",
}


def written_path(loc: Path_, lines: dict[Path_, int]) -> Path_:
    """``loc`` as the file has it: a one-group list written as a mapping has no index 0."""
    written: Path_ = ()
    for part in loc:
        if part == 0 and (*written, 0) not in lines and written in lines:
            continue
        written = (*written, part)
    return written


def _problems_from(exc: ValidationError, file: str, lines: dict[Path_, int]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        # Drop pydantic's internal steps (validator names, "[key]" for a bad mapping key).
        loc = tuple(
            p for p in error["loc"]
            if isinstance(p, int) or not (p.startswith("function-") or p == "[key]")
        )
        # A missing field has no line of its own: point at the mapping that lacks it.
        known = written_path(loc[:-1] if error["type"] == "missing" else loc, lines)
        while known and known not in lines:
            known = known[:-1]
        message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
        problems.append(Problem(file, lines.get(known, 1), _field_name(loc), message))
    return problems


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when installed: much faster) that leaves an impossible date
    such as 2026-13-01 as text, so validation reports it with its line instead of crashing."""

    def _date_or_text(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader._date_or_text)


def read_yaml(path: Path, display: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [Problem(display, 1, "(file)", f"cannot read: {exc}")]
    try:
        # One parse: the node tree gives the line numbers, then becomes the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}, [Problem(display, 1, "(file)", "the file is empty")]
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, {}, [Problem(display, line, "yaml", f"syntax error: {exc.problem}")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(display, 1, "yaml", f"syntax error: {exc}")]
    if not isinstance(data, dict):
        return None, {}, [Problem(display, 1, "(file)", "must be a mapping of field: value")]
    return data, _lines(node), []


def validate_document(
    model: type[BaseModel], data: Any, display: str, lines: dict
) -> tuple[Any, list]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _problems_from(exc, display, lines)


def load_knowledge(directory: Path | str) -> KnowledgeBase:
    """Read and validate ``office.yaml`` and ``services/*.yaml``; every problem at once."""
    directory = Path(directory)
    problems: list[Problem] = []
    office_path = directory / "office.yaml"
    if not office_path.is_file():
        raise KnowledgeError([Problem(str(office_path), 1, "(file)", "office.yaml is missing")])
    data, office_lines, found = read_yaml(office_path, str(office_path))
    problems += found
    office = None
    if data is not None:
        office, found = validate_document(Office, data, str(office_path), office_lines)
        problems += found

    services: dict[str, Service] = {}
    where: dict[str, str] = {}
    origins: dict[str, tuple[str, dict[Path_, int]]] = {}
    service_files = sorted((directory / "services").glob("*.yaml"))
    if not service_files:
        problems.append(Problem(str(directory / "services"), 1, "(file)", "no service files"))
    for path in service_files:
        display = str(path)
        data, lines, found = read_yaml(path, display)
        problems += found
        if data is None:
            continue
        service, found = validate_document(Service, data, display, lines)
        problems += found
        if service is None:
            continue
        line = lines.get(("id",), 1)
        if service.id in services:
            problems.append(Problem(display, line, "id", f"duplicate service id {service.id!r} "
                                    f"(also in {where[service.id]})"))
            continue
        if office is not None and service.category not in {c.id for c in office.categories}:
            problems.append(Problem(
                display, lines.get(("category",), 1), "category",
                f"unknown category {service.category!r}; office.yaml lists: "
                + ", ".join(c.id for c in office.categories),
            ))
        services[service.id] = service
        where[service.id] = display
        origins[service.id] = (display, lines)
    # Only once every service file loaded: a broken file's service is not unknown.
    if office is not None and office.queue is not None and not problems:
        for service_id in office.queue.services:
            if service_id not in services:
                line = office_lines.get(("queue", "services", service_id), 1)
                problems.append(Problem(str(office_path), line, f"queue.services.{service_id}",
                                        "no service with this id in services/"))
    if problems or office is None:
        raise KnowledgeError(problems)
    return KnowledgeBase(directory=directory, office=office, services=services, origins=origins)
