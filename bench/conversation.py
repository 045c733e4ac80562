"""Understanding a message, dialogue context included, per message (p50, p95): on the sample
knowledge base and on a generated one of 1,000 services with 200 free-form entries and 50 life
events. Run: python bench/conversation.py (make bench runs it too)."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.context import DialogueContext  # noqa: E402
from bot.conversation.library import Entry, Library, Situation, Step, load_library  # noqa: E402
from bot.conversation.understanding import Understander  # noqa: E402
from bot.qa.knowledge import KnowledgeBase, Text, Words  # noqa: E402
from bot.qa.loader import load_knowledge  # noqa: E402
from bot.qa.matching import Matcher  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
OWN_SET = ROOT / "tests" / "qa" / "data" / "matcher_questions.jsonl"
TODAY = date(2026, 12, 2)
ROUNDS = 5
FOLLOW_UPS = ["biayanya?", "berapa lama?", "loketnya di mana", "kalau hilang?",
              "yang perpanjangan?", "how long does it take?", "what if it was lost?",
              "syarat dan biaya", "kalau rusak gimana?"]

_spec = importlib.util.spec_from_file_location("bench_matcher", ROOT / "bench" / "matcher.py")
bench_matcher = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_matcher)


def _lines(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def generated_library(kb: KnowledgeBase, entries: int, situations: int) -> Library:
    rng = random.Random(5)
    ids = list(kb.services)
    library = Library()
    for n in range(entries):
        words = [bench_matcher._word(rng) for _ in range(2)]
        library.entries[f"e{n}"] = Entry(
            id=f"e{n}", question=Text(id=" ".join(words) + "?"),
            keywords=Words(id=[" ".join(words), words[0] + " " + bench_matcher._word(rng)]),
            answer=Text(id="Jawaban."))
    for n in range(situations):
        word = bench_matcher._word(rng)
        library.situations[f"s{n}"] = Situation(
            id=f"s{n}", name=Text(id=word), keywords=Words(id=[f"mau {word}", f"baru {word}"]),
            steps=[Step(service=rng.choice(ids)) for _ in range(3)])
    return library


def _time(understander: Understander, messages: list[tuple[str, DialogueContext]]) -> list:
    times = []
    for text, context in messages:
        start = time.perf_counter()
        understander.understand(text, context, today=TODAY)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _report(label: str, kb: KnowledgeBase, library: Library,
            messages: list[tuple[str, DialogueContext]]) -> None:
    """Each round builds the matcher and understander afresh (typo corrections uncached);
    the figures are the median over the rounds."""
    build, p50, p95, worst = [], [], [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        understander = Understander(kb, Matcher(kb), library)
        build.append((time.perf_counter() - start) * 1000)
        times = _time(understander, messages)
        p50.append(statistics.median(times))
        p95.append(statistics.quantiles(times, n=20)[18])
        worst.append(max(times))
    med = statistics.median
    print(f"{label}: {len(kb.services)} services, {len(library.entries)} entries, "
          f"{len(library.situations)} situations, {len(messages)} messages, "
          f"build {med(build):.0f} ms, per message p50 {med(p50):.3f} ms, "
          f"p95 {med(p95):.3f} ms, max {med(worst):.3f} ms (median of {ROUNDS} rounds)")


def main() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {cpu} ({os.cpu_count()} cores, load {load:.1f}), "
          f"Python {platform.python_version()}, one thread")
    sample = load_knowledge(ROOT / "knowledge")
    contexts = [DialogueContext(), DialogueContext("paspor", "requirements"),
                DialogueContext("sim", "fee", ("class:a",)), DialogueContext("ktp-el", "fee")]
    questions = [q["q"] for q in _lines(OWN_SET) + _lines(EVAL / "dev-questions.jsonl")]
    turns = [t["say"] for d in _lines(EVAL / "dev-dialogues.jsonl") for t in d["turns"]]
    messages = [(q, contexts[n % len(contexts)]) for n, q in enumerate(questions + turns)]
    messages += [(f, c) for f in FOLLOW_UPS for c in contexts]
    _report("sample knowledge base", sample, load_library(sample), messages)

    big = bench_matcher.generated_kb(sample, 1000)
    library = generated_library(big, 200, 50)
    rng = random.Random(11)
    names = [s.aliases.id[0] for s in big.services.values()]
    generated = [f"{rng.choice(bench_matcher.TOPICS_ID)} {rng.choice(names)}" for _ in range(300)]
    generated += [q[:-2] + q[-1] for q in generated[:100]]  # one letter dropped near the end
    generated += [" ".join(e.keywords.id[0].split()) + " ada?" for e in
                  list(library.entries.values())[:50]]
    generated += [s.keywords.id[0] + ", urus apa" for s in list(library.situations.values())]
    ids = list(big.services)
    big_contexts = [DialogueContext(rng.choice(ids), "requirements") for _ in range(20)]
    big_messages = [(q, big_contexts[n % 20]) for n, q in enumerate(generated + questions)]
    big_messages += [(f, c) for f in FOLLOW_UPS for c in big_contexts]
    _report("generated knowledge base", big, library, big_messages)


if __name__ == "__main__":
    main()
