"""Life events ("situations") and free-form question-and-answer entries: YAML files beside the
services (``situations/*.yaml``, ``entries/*.yaml``), validated with file:line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from bot.qa.knowledge import (
    Identifier,
    KnowledgeBase,
    KnowledgeError,
    KnowledgeModel,
    Problem,
    Text,
    Words,
)
from bot.qa.loader import read_yaml, validate_document
from bot.qa.matching import tokens_of

MAX_KEYWORD_GAP = 3  # words allowed between a keyword's words ("start a small food business")


class Step(KnowledgeModel):
    """One service to go through in a situation, in order; ``variant`` names its requirement
    group (the ``variant`` key in the service's file)."""

    service: str
    variant: str | None = None
    note: Text | None = None


class Situation(KnowledgeModel):
    """A life event that names no service (a birth, a death, moving house): the services it
    needs, in order, and what to bring once for all of them."""

    id: Identifier
    name: Text
    keywords: Words
    intro: Text | None = None
    steps: list[Step] = Field(min_length=1)
    bring: list[Text] = Field(default_factory=list)  # empty: the steps' requirements, once each
    notes: list[Text] = Field(default_factory=list)

    @field_validator("keywords")
    @classmethod
    def _some_keywords(cls, value: Words) -> Words:
        if not value.all():
            raise ValueError("give at least one keyword (the words citizens use)")
        return value


class Entry(KnowledgeModel):
    """A plain question and answer (parking, wheelchair access, paying by card)."""

    id: Identifier
    question: Text
    keywords: Words
    answer: Text

    @field_validator("keywords")
    @classmethod
    def _some_keywords(cls, value: Words) -> Words:
        if not value.all():
            raise ValueError("give at least one keyword (the words citizens use)")
        return value


@dataclass
class Library:
    situations: dict[str, Situation] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)


def _load_folder(
    folder: Path, model: type[KnowledgeModel], problems: list[Problem]
) -> list[tuple[Any, str, dict]]:
    loaded = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        display = str(path)
        data, lines, found = read_yaml(path, display)
        problems += found
        if data is None:
            continue
        item, found = validate_document(model, data, display, lines)
        problems += found
        if item is None:
            continue
        if item.id in seen:
            problems.append(Problem(display, lines.get(("id",), 1), "id",
                                    f"duplicate id {item.id!r} (also in {seen[item.id]})"))
            continue
        seen[item.id] = display
        loaded.append((item, display, lines))
    return loaded


def load_library(kb: KnowledgeBase) -> Library:
    """Read the situations and entries of the knowledge folder (both optional); every problem
    at once, as ``file:line: field: message``."""
    problems: list[Problem] = []
    library = Library()
    for situation, display, lines in _load_folder(kb.directory / "situations", Situation,
                                                  problems):
        for n, step in enumerate(situation.steps):
            service = kb.services.get(step.service)
            where = lines.get(("steps", n, "service"), lines.get(("steps", n), 1))
            if service is None:
                problems.append(Problem(display, where, f"steps[{n}].service",
                                        f"unknown service {step.service!r}"))
                continue
            variants = [g.variant for g in service.requirements if g.variant]
            if step.variant is not None and step.variant not in variants:
                problems.append(Problem(
                    display, lines.get(("steps", n, "variant"), where), f"steps[{n}].variant",
                    f"{step.service} has no requirement variant {step.variant!r}; it has: "
                    + (", ".join(variants) or "none"),
                ))
        library.situations[situation.id] = situation
    for entry, _display, _lines in _load_folder(kb.directory / "entries", Entry, problems):
        library.entries[entry.id] = entry
    if problems:
        raise KnowledgeError(problems)
    return library


# --- finding keywords in a question -------------------------------------------------------------


@dataclass(frozen=True)
class KeywordHit:
    target: str  # situation or entry id
    start: int
    end: int  # exclusive
    size: int  # words of the keyword


class KeywordIndex:
    """Keyword phrases of situations or entries, found in order with a few words between."""

    def __init__(self, keywords: dict[str, list[str]]) -> None:
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for target, words in keywords.items():
            for keyword in words:
                tokens = tuple(tokens_of(keyword))
                if tokens:
                    self._phrases.setdefault(tokens[0], []).append((tokens, target))

    def find(self, tokens: list[str]) -> KeywordHit | None:
        """The longest keyword found (earliest on a tie)."""
        best: KeywordHit | None = None
        for start, token in enumerate(tokens):
            for phrase, target in self._phrases.get(token, ()):
                end = _match_from(tokens, start, phrase)
                if end is None:
                    continue
                hit = KeywordHit(target, start, end, len(phrase))
                if best is None or hit.size > best.size:
                    best = hit
        return best


def _match_from(tokens: list[str], start: int, phrase: tuple[str, ...]) -> int | None:
    position = start + 1
    for word in phrase[1:]:
        window = tokens[position : position + MAX_KEYWORD_GAP + 1]
        if word not in window:
            return None
        position += window.index(word) + 1
    return position
