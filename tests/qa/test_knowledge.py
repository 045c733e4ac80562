"""Knowledge base validation: every problem reported as file:line: field: message."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.qa.knowledge import KnowledgeError
from bot.qa.loader import load_knowledge

SAMPLE = PROJECT_ROOT / "knowledge"
SERVICE_IDS = [
    "ktp-el", "kartu-keluarga", "akta-kelahiran", "akta-kematian", "pindah-domisili", "kia",
    "paspor", "skck", "sim", "nib", "pbg", "rawat-jalan", "npwp", "bpjs-kesehatan",
]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(directory)
    return [str(p) for p in err.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_sample_has_exactly_the_fourteen_services_in_both_languages():
    kb = load_knowledge(SAMPLE)
    assert sorted(kb.services) == sorted(SERVICE_IDS)
    for service in kb.services.values():
        assert service.names.en, service.id
        assert service.description.en and service.product.en, service.id
        assert service.legal_basis, service.id
        assert service.category in kb.categories
        for group in service.requirements:
            assert all(item.en for item in group.items), service.id
        assert all(step.en for step in service.procedure), service.id


def test_sample_fees_and_times_follow_the_regulations():
    kb = load_knowledge(SAMPLE)
    for free in ("ktp-el", "kartu-keluarga", "akta-kelahiran", "akta-kematian",
                 "pindah-domisili", "kia", "nib", "npwp"):
        assert kb.services[free].fee.free, free
        assert kb.services[free].fee.legal_basis is not None, free
    passport = kb.services["paspor"]
    # PP 45/2024: non-electronic 5/10 years, electronic 5/10 years, acceleration, lost,
    # damaged, and free for a migrant worker's first passport (art. 5).
    assert passport.fee.amount == 350000
    assert [v.amount for v in passport.fee.variants] == [
        650000, 650000, 950000, 1000000, 1000000, 500000, 0]
    assert passport.fee.source.regulation == "PP No. 45 Tahun 2024"
    assert passport.fee.variants[-1].source.article == "Pasal 5"
    assert (passport.duration.amount, passport.duration.unit) == (3, "working_days")
    # The office's 3 days; lost or damaged replacements fall outside the regulation's 4.
    [lost] = passport.duration.variants
    assert lost.amount is None and "hilang" in lost.label.id
    assert passport.duration.source.article == "Pasal 22"
    photos = [item.id for item in kb.services["skck"].requirements[0].items if "foto" in item.id]
    assert photos == ["Pas foto berwarna 4x6 latar merah sebanyak 5 lembar"]
    sim = {v.label.id: v.amount for v in kb.services["sim"].fee.variants}
    assert kb.services["sim"].fee.amount == 120000
    assert sim == {"SIM C baru": 100000, "SIM D baru": 50000, "Perpanjangan SIM A": 80000,
                   "Perpanjangan SIM C": 75000, "Perpanjangan SIM D": 30000}
    assert kb.services["skck"].fee.amount == 30000
    assert kb.services["bpjs-kesehatan"].duration.unit == "days"
    assert kb.services["pbg"].fee.amount is None  # set by regional regulation, explained
    assert kb.services["rawat-jalan"].location.lat is not None  # its own map pin


def test_office_closures_and_accessors():
    kb = load_knowledge(SAMPLE)
    assert date(2026, 12, 31) in kb.office.closed_dates
    assert isinstance(kb.office.closed_dates, set)
    assert kb.office.promise("id") != kb.office.promise("en")
    assert kb.services["paspor"].name("en") == "Passport"
    assert kb.services["paspor"].name("id") == "Paspor"
    assert kb.office.complaint_categories


def test_english_falls_back_to_indonesian(kb_dir):
    _edit(kb_dir / "services" / "kia.yaml", ", en: Child identity card (KIA)}", "}")
    kb = load_knowledge(kb_dir)
    assert kb.services["kia"].name("en") == "Kartu Identitas Anak (KIA)"


def test_yaml_syntax_error_gives_its_line(kb_dir):
    path = kb_dir / "services" / "sim.yaml"
    _edit(path, "category: imigrasi-kepolisian", "category: [imigrasi")
    problems = _problems(kb_dir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:")
    assert ": yaml: syntax error: " in problems[0]
    line = int(problems[0].split(":")[1])
    assert line >= _line_of(path, "category: [imigrasi")


def test_missing_field_gives_the_line_of_its_mapping(kb_dir):
    path = kb_dir / "services" / "paspor.yaml"
    _edit(path, "  unit: working_days\n", "")
    line = _line_of(path, "duration:")
    assert _problems(kb_dir) == [f"{path}:{line}: duration.unit: required field is missing"]


def test_negative_fee_is_refused_with_its_line(kb_dir):
    path = kb_dir / "services" / "skck.yaml"
    _edit(path, "amount: 30000", "amount: -30000")
    line = _line_of(path, "amount: -30000")
    assert _problems(kb_dir) == [
        f"{path}:{line}: fee.amount: must not be negative (got -30000); "
        "write 0 for a free service"
    ]


def test_negative_variant_fee_names_the_variant(kb_dir):
    path = kb_dir / "services" / "sim.yaml"
    _edit(path, "amount: 75000}", "amount: -75000}")
    line = _line_of(path, "amount: -75000")
    assert _problems(kb_dir) == [
        f"{path}:{line}: fee.variants[3].amount: must not be negative (got -75000); "
        "write 0 for a free service"
    ]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("  unit: working_days", "  unit: weeks", "duration.unit",
         "unknown unit 'weeks'; use one of: working_days, days, hours"),
        ("id: paspor", "id: Paspor_1", "id",
         "'Paspor_1' is not a valid id: use lowercase letters, digits and single hyphens "
         "(e.g. akta-kelahiran)"),
        ("  lat: -6.601412", "  lat: -96.6", "location.lat",
         "latitude must be between -90 and 90 (got -96.6)"),
        ("category: kesehatan", "category: pajak", "category",
         "unknown category 'pajak'; office.yaml lists: kependudukan, imigrasi-kepolisian, "
         "usaha-perizinan, kesehatan"),
        ("facilities:", "fasilitas:", "fasilitas", "unknown field (check the spelling)"),
        ("topic_aliases:\n  fee:", "topic_aliases:\n  price:", "topic_aliases.price",
         "unknown topic 'price'; use one of: requirements, procedure, fee, duration, location, "
         "hours, product, overview"),
        ("  deadline_days: 14", "  deadline_days: 0", "pickup.deadline_days",
         "Input should be greater than or equal to 1"),
        ("pickup:\n  counter:", "pickup:\n  countr:", "pickup.countr",
         "unknown field (check the spelling)"),
        ('    friday: "13:30-15:00"', '    friday: "15:00-13:30"', "pickup.hours.friday",
         "the closing time must be after the opening"),
    ],
)
def test_each_mistake_has_a_clear_message(kb_dir, old, new, field, message):
    for path in sorted((kb_dir / "services").glob("*.yaml")):
        if old in path.read_text(encoding="utf-8"):
            break
    _edit(path, old, new)
    problems = _problems(kb_dir)
    assert len(problems) == 1, problems
    file, line, rest = problems[0].split(":", 2)
    assert file == str(path)
    assert int(line) == _line_of(path, new.split("\n")[-1].strip())
    assert rest == f" {field}: {message}"


def test_duplicate_service_id(kb_dir):
    copy = kb_dir / "services" / "zz-copy.yaml"
    shutil.copy(kb_dir / "services" / "nib.yaml", copy)
    assert _problems(kb_dir) == [
        f"{copy}:1: id: duplicate service id 'nib' (also in {kb_dir / 'services' / 'nib.yaml'})"
    ]


def test_office_hours_and_coordinates_are_checked(kb_dir):
    path = kb_dir / "office.yaml"
    _edit(path, 'monday: "08:00-15:00"', "monday: 8 to 3")
    _edit(path, "lon: 106.816635", "lon: 206.8")
    assert _problems(kb_dir) == [
        f"{path}:{_line_of(path, 'lon: 206.8')}: lon: "
        "longitude must be between -180 and 180 (got 206.8)",
        f"{path}:{_line_of(path, 'monday: 8 to 3')}: opening_hours.monday: "
        'write opening times as "08:00-15:00" in quotes, or closed',
    ]


def test_every_problem_of_every_file_at_once(kb_dir):
    _edit(kb_dir / "services" / "skck.yaml", "amount: 30000", "amount: -1")
    _edit(kb_dir / "services" / "kia.yaml", "  unit: working_days", "  unit: months")
    problems = _problems(kb_dir)
    assert len(problems) == 2
    assert "kia.yaml" in problems[0] and "skck.yaml" in problems[1]


def _cli(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=60,
    )


def test_knowledge_check_command_exit_codes(kb_dir):
    ok = _cli("knowledge", "check", str(SAMPLE))
    assert ok.returncode == 0, ok.stderr
    assert "OK, 14 services" in ok.stdout
    path = kb_dir / "services" / "skck.yaml"
    _edit(path, "amount: 30000", "amount: -30000")
    bad = _cli("knowledge", "check", str(kb_dir))
    assert bad.returncode == 1
    line = _line_of(path, "amount: -30000")
    assert f"{path}:{line}: fee.amount: must not be negative" in bad.stderr
    assert "1 problem(s)" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_bot_refuses_to_start_with_the_same_messages(kb_dir, tmp_path):
    path = kb_dir / "services" / "skck.yaml"
    _edit(path, "amount: 30000", "amount: -30000")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "1:x",
             "KNOWLEDGE_DIR": str(kb_dir), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
             "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert proc.returncode == 1
    line = _line_of(path, "amount: -30000")
    assert f"{path}:{line}: fee.amount: must not be negative" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_documented_example_is_valid(kb_dir):
    doc = (PROJECT_ROOT / "docs" / "knowledge-base.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n# knowledge/services/skck.yaml\n", 1)[1].split("```", 1)[0]
    (kb_dir / "services" / "skck.yaml").write_text(example, encoding="utf-8")
    kb = load_knowledge(kb_dir)
    assert kb.services["skck"].fee.amount == 30000
    assert kb.services["skck"].location.counter.get("en") == "Loket 14"


def test_a_missing_folder_is_one_clear_problem(tmp_path):
    assert _problems(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere' / 'office.yaml'}:1: (file): office.yaml is missing"
    ]
