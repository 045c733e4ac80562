"""Sources of the knowledge base's facts: validated with file:line problems, listed by
`servicebot knowledge check --stale DAYS` when they are missing or checked too long ago."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.qa.knowledge import KnowledgeError
from bot.qa.knowledge_check import knowledge_facts, stale_facts
from bot.qa.loader import load_knowledge

SAMPLE = PROJECT_ROOT / "knowledge"
PASSPORT_FEE_SOURCE = "  source: {regulation: PP No. 45 Tahun 2024, article: Lampiran, checked: "


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(directory)
    return [str(p) for p in err.value.problems]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=60)


def test_every_fee_time_and_requirement_of_the_sample_has_a_source():
    kb = load_knowledge(SAMPLE)
    facts = knowledge_facts(kb)
    kinds = {(f.service_id, f.what.split(" ", 1)[0]) for f in facts}
    for service in kb.services:
        assert {(service, "fee"), (service, "time"), (service, "requirements")} <= kinds
    assert [f.what for f in facts if f.source is None] == []
    assert all(f.source.checked <= date.today() for f in facts)
    # Each group of requirements is a fact of its own, at the line of its source.
    skck = [f for f in facts if f.service_id == "skck" and f.what.startswith("requirements")]
    path = SAMPLE / "services" / "skck.yaml"
    assert [(f.what, f.source.regulation) for f in skck] == [
        ('requirements "SKCK baru" (5 items)', "Peraturan Kepolisian No. 6 Tahun 2023"),
        ('requirements "Perpanjangan" (4 items)', "Peraturan Kepolisian No. 6 Tahun 2023"),
    ]
    assert skck[0].file == str(path)
    assert path.read_text(encoding="utf-8").splitlines()[skck[0].line - 1].startswith(
        "    source: {regulation: Peraturan Kepolisian No. 6 Tahun 2023")


def test_stale_facts_are_those_checked_too_long_ago_or_never(kb_dir):
    path = kb_dir / "services" / "paspor.yaml"
    _edit(path, PASSPORT_FEE_SOURCE + "2026-12-02}", PASSPORT_FEE_SOURCE + "2024-12-20}")
    _edit(kb_dir / "services" / "kia.yaml",
          "  source: {regulation: UU No. 24 Tahun 2013, article: Pasal 79A, checked: 2026-12-02}\n",
          "")
    kb = load_knowledge(kb_dir)
    today = date(2026, 12, 31)
    stale = stale_facts(kb, today, 365)
    assert [(f.service_id, f.what) for f in stale] == [
        ("kia", "fee free"),
        ("paspor", 'fee "Paspor biasa (non-elektronik) 5 tahun" Rp350.000'),
    ]
    kia, passport = stale
    assert passport.describe(today) == (
        f"{path}:{_line_of(path, PASSPORT_FEE_SOURCE)}: paspor: "
        'fee "Paspor biasa (non-elektronik) 5 tahun" Rp350.000: checked 2024-12-20 '
        "(741 days ago), PP No. 45 Tahun 2024, Lampiran"
    )
    kia_path = kb_dir / "services" / "kia.yaml"
    assert kia.describe(today) == (
        f"{kia_path}:{_line_of(kia_path, 'fee:')}: kia: fee free: no source "
        "(add source: regulation, article, checked)"
    )
    # The same day a year later is not yet stale; a day more is.
    assert not [f for f in stale_facts(kb, date(2025, 12, 20), 365) if f.service_id == "paspor"]
    assert [f.service_id for f in stale_facts(kb, date(2025, 12, 21), 365)] == ["kia", "paspor"]


def test_stale_check_command(kb_dir):
    fresh = _cli("knowledge", "check", str(kb_dir), "--stale", "365")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    total = len(knowledge_facts(load_knowledge(kb_dir)))
    assert fresh.stdout.splitlines()[-1] == (
        f"all {total} facts (fees, times, requirements) were checked within 365 days")

    path = kb_dir / "services" / "paspor.yaml"
    old = (date.today() - timedelta(days=400)).isoformat()
    _edit(path, PASSPORT_FEE_SOURCE + "2026-12-02}", PASSPORT_FEE_SOURCE + old + "}")
    stale = _cli("knowledge", "check", str(kb_dir), "--stale", "365")
    assert stale.returncode == 1
    lines = stale.stdout.splitlines()
    assert lines[0] == f"{kb_dir}: OK, 14 services, 8 situations, 4 entries"
    assert lines[1] == (
        f"{path}:{_line_of(path, PASSPORT_FEE_SOURCE)}: paspor: "
        f'fee "Paspor biasa (non-elektronik) 5 tahun" Rp350.000: checked {old} (400 days ago), '
        "PP No. 45 Tahun 2024, Lampiran"
    )
    assert lines[2] == (
        f"1 of {total} facts (fees, times, requirements) have no source or were checked more "
        "than 365 days ago: check them against the regulation, then update their "
        "source.checked date"
    )
    # Without --stale the check is about mistakes only, as before.
    assert _cli("knowledge", "check", str(kb_dir)).returncode == 0
    refused = _cli("knowledge", "check", str(kb_dir), "--stale", "a year")
    assert refused.returncode == 2
    assert "'a year' is not a number of days" in refused.stderr


@pytest.mark.parametrize(
    ("new", "field", "message"),
    [
        (PASSPORT_FEE_SOURCE + "2026-13-01}", "fee.source.checked",
         "write the date it was checked as 2026-12-31 (year-month-day)"),
        (PASSPORT_FEE_SOURCE + "02-12-2026}", "fee.source.checked",
         "write the date it was checked as 2026-12-31 (year-month-day)"),
        (PASSPORT_FEE_SOURCE + "2062-12-02}", "fee.source.checked",
         "the date it was checked (2062-12-02) is in the future"),
        ("  source: {regulation: '', article: Lampiran, checked: 2026-12-02}",
         "fee.source.regulation", "String should have at least 1 character"),
        ("  source: {article: Lampiran, checked: 2026-12-02}", "fee.source.regulation",
         "required field is missing"),
        ("  source: {regulation: PP No. 45 Tahun 2024, pasal: 5, checked: 2026-12-02}",
         "fee.source.pasal", "unknown field (check the spelling)"),
    ],
)
def test_a_bad_source_is_reported_with_its_line(kb_dir, new, field, message):
    path = kb_dir / "services" / "paspor.yaml"
    _edit(path, PASSPORT_FEE_SOURCE + "2026-12-02}", new)
    assert _problems(kb_dir) == [f"{path}:{_line_of(path, new.strip())}: {field}: {message}"]


def test_a_source_of_a_one_list_requirement_reports_its_own_line(kb_dir):
    path = kb_dir / "services" / "nib.yaml"
    old = "  source: {regulation: PP No. 5 Tahun 2021, checked: 2026-11-24}\n  items:"
    new = "  source: {regulation: PP No. 5 Tahun 2021, checked: 24-11-2026}\n  items:"
    _edit(path, old, new)
    assert _problems(kb_dir) == [
        f"{path}:{_line_of(path, 'checked: 24-11-2026')}: requirements[0].source.checked: "
        "write the date it was checked as 2026-12-31 (year-month-day)"
    ]


def test_a_case_of_a_duration_needs_a_unit_or_a_note(kb_dir):
    path = kb_dir / "services" / "paspor.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    - label: {id: Penggantian paspor hilang")
    end = text.index("fee:\n")
    path.write_text(text[:start] + "    - label: {id: Paspor hilang}\n      amount: 5\n"
                    "    - label: {id: Paspor rusak}\n" + text[end:], encoding="utf-8")
    line = _line_of(path, "    - label: {id: Paspor hilang}")
    assert _problems(kb_dir) == [
        f"{path}:{line}: duration.variants[0]: give the unit of this amount",
        f"{path}:{line + 2}: duration.variants[1]: a case without an amount needs a note "
        "saying why no time is promised",
    ]
