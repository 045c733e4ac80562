"""Matcher latency per question (p50, p95) on the sample and a generated 1,000-service base,
and the accuracy on the development questions. Run: make bench (or python bench/matcher.py)."""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.qa.knowledge import KnowledgeBase, Service, Text, Words  # noqa: E402
from bot.qa.loader import load_knowledge  # noqa: E402
from bot.qa.matching import Matcher  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "dev-questions.jsonl"
OWN_SET = ROOT / "tests" / "qa" / "data" / "matcher_questions.jsonl"
SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne " \
            "ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu".split()
KINDS = ["izin", "surat keterangan", "sertifikat", "rekomendasi", "kartu", "pendaftaran",
         "legalisir", "tanda daftar", "persetujuan", "pengesahan"]
TOPICS_ID = ["syarat", "biaya", "berapa lama", "dimana loket", "jam buka", "cara daftar",
             "hasilnya apa"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def generated_kb(base: KnowledgeBase, count: int, seed: int = 7) -> KnowledgeBase:
    """``count`` services with made-up two-word names on top of one real service's standard."""
    rng = random.Random(seed)
    template = next(iter(base.services.values()))
    services: dict[str, Service] = {}
    while len(services) < count:
        words = [_word(rng), _word(rng)]
        kind = rng.choice(KINDS)
        service_id = "-".join(words)
        if service_id in services:
            continue
        services[service_id] = template.model_copy(update={
            "id": service_id,
            "names": Text(id=f"{kind} {' '.join(words)}".title()),
            "aliases": Words(id=[" ".join(words), f"{kind} {words[0]}"], en=[words[1]]),
        })
    return replace(base, services=services)


def _latencies(matcher: Matcher, questions: list[str]) -> list[float]:
    times = []
    for question in questions:
        start = time.perf_counter()
        matcher.match(question, "id")
        times.append((time.perf_counter() - start) * 1000)
    return times


ROUNDS = 5


def _report(label: str, kb: KnowledgeBase, questions: list[str]) -> None:
    """Each round indexes afresh (so typo corrections start uncached) and times every
    question once; the figures are the median over the rounds, which keeps a moment of
    contention from another process out of them."""
    index, p50, p95, worst = [], [], [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        matcher = Matcher(kb)
        index.append((time.perf_counter() - start) * 1000)
        times = _latencies(matcher, questions)
        p50.append(statistics.median(times))
        p95.append(statistics.quantiles(times, n=20)[18])
        worst.append(max(times))
    med = statistics.median
    print(f"{label}: {len(kb.services)} services, {len(questions)} questions, "
          f"index {med(index):.0f} ms, per question p50 {med(p50):.3f} ms, "
          f"p95 {med(p95):.3f} ms, max {med(worst):.3f} ms (median of {ROUNDS} rounds)")


def _accuracy(matcher: Matcher, path: Path) -> str:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    right = 0
    for item in items:
        found = matcher.match(item["q"], item.get("lang", "id"))
        right += found.service_id == item["service"] and (
            item["service"] is None or found.topic == item["topic"])
    return f"{right}/{len(items)} ({right / len(items):.1%})"


def main() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {cpu} ({os.cpu_count()} cores, load {load:.1f}), "
          f"Python {platform.python_version()}, one thread")
    sample = load_knowledge(ROOT / "knowledge")
    own = [json.loads(line)["q"] for line in OWN_SET.read_text(encoding="utf-8").splitlines()]
    dev = ([json.loads(line)["q"] for line in DEV_SET.read_text(encoding="utf-8").splitlines()
            if line] if DEV_SET.is_file() else [])
    _report("sample knowledge base", sample, own + dev)

    big = generated_kb(sample, 1000)
    rng = random.Random(11)
    names = [s.aliases.id[0] for s in big.services.values()]
    generated = [f"{rng.choice(TOPICS_ID)} {rng.choice(names)}" for _ in range(300)]
    typos = [q[:-2] + q[-1] for q in generated[:100]]  # one letter dropped near the end
    _report("generated knowledge base", big, generated + typos + own)

    matcher = Matcher(sample)
    if DEV_SET.is_file():
        print(f"development set accuracy (service and topic): {_accuracy(matcher, DEV_SET)}")
    print(f"own question set accuracy: {_accuracy(matcher, OWN_SET)}")


if __name__ == "__main__":
    main()
