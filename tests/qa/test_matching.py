"""The matcher: Indonesian normalisation, service and topic, abstaining, on two question sets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.qa.loader import load_knowledge
from bot.qa.matching import Matcher, tokens_of

QUESTIONS = Path(__file__).parent / "data" / "matcher_questions.jsonl"
DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev-questions.jsonl"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge(PROJECT_ROOT / "knowledge"))


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _right(matcher: Matcher, item: dict) -> bool:
    found = matcher.match(item["q"], item.get("lang", "id"))
    if item["service"] is None:
        return found.service_id is None
    return (found.service_id, found.topic) == (item["service"], item["topic"])


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Brp biaya e-KTP?", ["berapa", "biaya", "e", "ktp"]),
        ("gmn cara ngurus akte lahir", ["bagaimana", "cara", "urus", "akta", "lahir"]),
        ("syarat apa aja, ga ribet kan?", ["syarat", "apa", "saja", "tidak", "ribet", "kan"]),
        ("Bikin KTP-el dll", ["buat", "ktp", "el", "dan", "lain", "lain"]),
        ("Pasport nggak ada", ["paspor", "tidak", "ada"]),
        ("Driver's licence", ["driver", "license"]),
    ],
)
def test_normalisation_of_slang_and_spelling(text, tokens):
    assert tokens_of(text) == tokens


def test_typos_are_corrected_towards_the_knowledge_base(matcher):
    tokens, fuzzy = matcher.normalise("persyaratn paspor elektonik")
    assert tokens == ["persyaratan", "paspor", "elektronik"]
    assert fuzzy == [True, False, True]
    # Short or common words are never bent into a service name.
    assert matcher.normalise("kita sama dia")[1] == [False, False, False]


@pytest.mark.parametrize(
    ("question", "service", "topic"),
    [
        ("KK", "kartu-keluarga", "overview"),
        ("e-KTP", "ktp-el", "overview"),
        ("ektp hilang", "ktp-el", "overview"),
        ("SIM C biayanya", "sim", "fee"),
        ("akte kelahiran", "akta-kelahiran", "overview"),
        ("berapa lama bikin pasport", "paspor", "duration"),
        ("jam buka", "office", "hours"),
        ("alamatnya dimana", "office", "location"),
        ("where is the passport counter", "paspor", "location"),
        ("change of address processing time", "pindah-domisili", "duration"),
    ],
)
def test_abbreviations_misspellings_and_topics(matcher, question, service, topic):
    found = matcher.match(question, "id")
    assert (found.service_id, found.topic) == (service, topic)


def test_abstains_with_the_closest_services(matcher):
    found = matcher.match("biaya akta", "id")
    assert (found.service_id, found.topic) == (None, None)
    assert found.suggestions == ["akta-kelahiran", "akta-kematian"]


def test_a_fee_for_two_services_is_not_guessed(matcher):
    found = matcher.match("berapa biaya ktp dan paspor", "id")
    assert found.service_id is None
    assert set(found.suggestions[:2]) == {"ktp-el", "paspor"}


def test_the_subject_wins_over_a_means(matcher):
    assert matcher.match("syarat berobat pakai bpjs", "id").service_id == "rawat-jalan"
    assert matcher.match("perlu ktp untuk bikin paspor?", "id").service_id == "paspor"


def test_a_typo_in_a_name_is_not_enough_for_a_fee(matcher):
    # One corrected word of a one-word name: good enough for requirements, not for money.
    assert matcher.match("syarat paspr", "id").service_id == "paspor"
    found = matcher.match("biaya paspr", "id")
    assert found.service_id is None and found.suggestions[0] == "paspor"


def test_out_of_scope_questions_abstain(matcher):
    for question in ("siapa nama kamu", "tell me a joke", "harga emas hari ini", "halo"):
        assert matcher.match(question, "id").service_id is None, question


def test_own_question_set(matcher):
    items = _load(QUESTIONS)
    assert len(items) >= 120
    assert {i["lang"] for i in items} == {"id", "en"}
    wrong = [i["q"] for i in items if not _right(matcher, i)]
    assert len(wrong) <= len(items) * 0.05, wrong


@pytest.mark.skipif(not DEV_SET.is_file(), reason=f"no development set at {DEV_SET}")
def test_dev_set_through_the_cli():
    items = _load(DEV_SET)
    right = 0
    for lang in ("id", "en"):
        subset = [i for i in items if i.get("lang", "id") == lang]
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "--json", "--lang", lang],
            input="\n".join(i["q"] for i in subset) + "\n",
            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        answers = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(answers) == len(subset)
        for item, answer in zip(subset, answers, strict=True):
            assert answer["question"] == item["q"]
            assert answer["answer"]
            right += answer["service"] == item["service"] and (
                item["service"] is None or answer["topic"] == item["topic"]
            )
    assert right / len(items) >= 0.90


def test_ask_prints_one_question_as_a_citizen_reads_it():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--lang", "en", "how much is a passport"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Passport · Fee\n")
    assert "Rp350,000" in proc.stdout and "<b>" not in proc.stdout


def test_ask_json_abstains_with_nulls():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "cuaca besok"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
    )
    answer = json.loads(proc.stdout)
    assert (answer["service"], answer["topic"]) == (None, None)
    assert answer["answer"].startswith("Mohon maaf")
