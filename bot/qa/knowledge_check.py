"""The facts of the knowledge base a citizen relies on (fees, times, requirements), each with
the file and line it is written on and its source, so an office sees which ones to recheck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.qa.knowledge import KnowledgeBase, Path_, Service, Source
from bot.qa.loader import written_path


@dataclass(frozen=True)
class Fact:
    file: str
    line: int  # the line of its source, or of the fact itself when it has none
    service_id: str
    what: str  # 'fee "Paspor elektronik 10 tahun" Rp950.000', as the file names it
    source: Source | None

    def describe(self, today: date) -> str:
        """``file:line: service: what: checked 2025-01-31 (670 days ago), regulation``."""
        where = f"{self.file}:{self.line}: {self.service_id}: {self.what}"
        if self.source is None:
            return f"{where}: no source (add source: regulation, article, checked)"
        age = (today - self.source.checked).days
        return (f"{where}: checked {self.source.checked.isoformat()} ({age} days ago), "
                f"{self.source}")


def _rupiah(amount: int | None) -> str:
    if amount is None:
        return "set case by case"
    return "free" if amount == 0 else "Rp" + f"{amount:,}".replace(",", ".")


def _span(amount: int | None, unit: str) -> str:
    return "no fixed time" if amount is None else f"{amount} {unit.replace('_', ' ')}"


def _service_facts(service: Service, file: str, lines: dict[Path_, int]) -> list[Fact]:
    def line_of(*path: str | int) -> int:
        for candidate in (written_path((*path, "source"), lines), written_path(path, lines)):
            if candidate in lines:
                return lines[candidate]
        return lines.get(("id",), 1)

    def fact(path: tuple[str | int, ...], what: str, source: Source | None) -> Fact:
        return Fact(file, line_of(*path), service.id, what, source)

    fee = service.fee
    found = [fact(("fee",), f'fee "{fee.label.id}" {_rupiah(fee.amount)}' if fee.label
                  else f"fee {_rupiah(fee.amount)}", fee.source)]
    found += [
        fact(("fee", "variants", n), f'fee "{v.label.id}" {_rupiah(v.amount)}', v.source)
        for n, v in enumerate(fee.variants) if v.source is not None  # else the fee's own
    ]
    duration = service.duration
    found.append(fact(("duration",), f"time {_span(duration.amount, duration.unit)}",
                      duration.source))
    for n, variant in enumerate(duration.variants):
        amount = _span(variant.amount, variant.unit or "")
        found.append(fact(("duration", "variants", n), f'time "{variant.label.id}" {amount}',
                          variant.source or duration.source))
    for n, group in enumerate(service.requirements):
        label = f' "{group.label.id}"' if group.label else ""
        found.append(fact(("requirements", n),
                          f"requirements{label} ({len(group.items)} items)", group.source))
    return sorted(found, key=lambda f: f.line)


def knowledge_facts(kb: KnowledgeBase) -> list[Fact]:
    """Every fee, time and requirement group, in file order."""
    found: list[Fact] = []
    for service in kb.services.values():
        file, lines = kb.origins.get(service.id, (service.id, {}))
        found += _service_facts(service, file, lines)
    return found


def stale_facts(kb: KnowledgeBase, today: date, max_age_days: int) -> list[Fact]:
    """Facts without a source, or whose source was last checked more than ``max_age_days``
    days before ``today``."""
    oldest = today - timedelta(days=max_age_days)
    return [f for f in knowledge_facts(kb) if f.source is None or f.source.checked < oldest]
