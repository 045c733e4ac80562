"""The conversation's understanding without Telegram: context, variants, several questions,
life events, entries, intents, and the situations' validation with file:line errors."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.conversation.context import (
    CONTEXT_TTL,
    DialogueContext,
    clear_context,
    load_context,
    save_context,
)
from bot.conversation.library import load_library
from bot.conversation.understanding import Part, Understander
from bot.core.config import PROJECT_ROOT
from bot.core.models import utcnow
from bot.qa.knowledge import KnowledgeError
from bot.qa.loader import load_knowledge
from bot.qa.matching import Matcher

SAMPLE = PROJECT_ROOT / "knowledge"
WEDNESDAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def understander() -> Understander:
    kb = load_knowledge(SAMPLE)
    return Understander(kb, Matcher(kb), load_library(kb))


def _after(understander: Understander, first: str, then: str):  # noqa: ANN202
    reading = understander.understand(first, None, today=WEDNESDAY)
    last = reading.parts[-1]
    context = DialogueContext(last.service_id, last.topic, last.variant)
    return understander.understand(then, context, today=WEDNESDAY)


@pytest.mark.parametrize(("first", "then", "service", "topic", "variant"), [
    ("syarat paspor", "biayanya berapa?", "paspor", "fee", ()),
    ("family card requirements", "how long does it take?", "kartu-keluarga", "duration", ()),
    ("bikin paspor", "loketnya di mana", "paspor", "location", ()),
    ("syarat ktp", "kalau hilang?", "ktp-el", "requirements", ("hilang",)),
    ("passport requirements", "what if it was lost?", "paspor", "requirements", ("hilang",)),
    ("biaya sim a", "kalau sim d?", "sim", "fee", ("class:d",)),
    ("biaya sim a", "yang perpanjangan?", "sim", "fee", ("class:a", "perpanjangan")),
    ("syarat ktp", "kalau KK?", "kartu-keluarga", "requirements", ()),
    ("how much is an SKCK", "and for a passport?", "paspor", "fee", ()),
    ("kia", "buat anak umur 10 tahun syaratnya?", "kia", "requirements", ("age:10",)),
    # Said about the person, in everyday words: "anaknya udah", "masih", "umurnya".
    ("bikin kia", "kalau anaknya udah 6 tahun?", "kia", "requirements", ("age:6",)),
    ("bikin kia", "anak saya masih 2 tahun", "kia", "requirements", ("age:2",)),
    ("syarat kia", "yg umurnya 10 thn?", "kia", "requirements", ("age:10",)),
    ("kia requirements", "my son is already 7 years old", "kia", "requirements", ("age:7",)),
    ("how long does a passport take", "and if I need it faster?", "paspor", "fee",
     ("percepatan",)),
    ("berapa lama paspor jadi", "kalau mau lebih cepat?", "paspor", "fee", ("percepatan",)),
    # A case's own keywords count even where they are also in the service's names.
    ("biaya sim a", "kalau yang motor?", "sim", "fee", ("motor",)),
    ("how much is a driving licence", "how about for motorbikes?", "sim", "fee",
     ("motorbike",)),
    # A case's short keyword is read as written ("pt" is no typo of "peta", a map).
    ("npwp", "kalau untuk pt?", "npwp", "requirements", ("pt",)),
    ("syarat npwp", "kalau cv?", "npwp", "requirements", ("cv",)),
])
def test_a_follow_up_is_read_with_the_remembered_service_and_topic(
    understander, first, then, service, topic, variant
):
    reading = _after(understander, first, then)
    assert reading.kind == "answer" and reading.follow_up
    assert reading.parts == [Part(service, topic, variant)]


def test_context_never_overrides_a_question_that_names_its_own_service_and_topic(understander):
    reading = _after(understander, "syarat paspor", "berapa lama skck jadi")
    assert reading.parts == [Part("skck", "duration", ())] and not reading.follow_up
    # A message about something else entirely is not taken as a follow-up.
    assert _after(understander, "syarat skck", "harga emas hari ini").kind == "unknown"
    assert _after(understander, "syarat paspor", "cara daftar cpns").kind == "unknown"
    assert _after(understander, "bikin kia", "anak saya sudah sekolah belum").kind == "unknown"


@pytest.mark.parametrize(("question", "parts"), [
    # A list: "A, B and C" (the comma is gone once the words are read).
    ("SKCK requirements, fee and processing time", [("skck", "requirements"), ("skck", "fee"),
                                                    ("skck", "duration")]),
    ("syarat dan biaya perpanjang sim c", [("sim", "requirements"), ("sim", "fee")]),
    ("how much is an SKCK and how long does it take", [("skck", "fee"), ("skck", "duration")]),
    ("KTP sama KK syaratnya apa", [("ktp-el", "requirements"),
                                   ("kartu-keluarga", "requirements")]),
    ("biaya paspor dan sim a", [("paspor", "fee"), ("sim", "fee")]),
    # One question, though two topic words: "how long ... valid" asks the validity.
    ("How long is the SKCK valid?", [("skck", "product")]),
])
def test_several_questions_in_one_message(understander, question, parts):
    reading = understander.understand(question, None, today=WEDNESDAY)
    assert [(p.service_id, p.topic) for p in reading.parts] == parts


def test_the_variant_asked_is_picked(understander):
    def picked(question: str) -> tuple[int | None, int | None]:
        part = understander.understand(question, None).parts[0]
        return (understander.requirement_pick(part.service_id, part.variant),
                understander.fee_pick(part.service_id, part.variant))

    assert picked("kk hilang syaratnya apa")[0] == 2
    assert picked("kia untuk balita syaratnya apa")[0] == 0  # a keyword from the KIA file
    assert picked("perpanjangan sim d berapa")[1] == 5
    assert picked("iuran bpjs kelas 3 berapa")[1] == 3  # "kelas III" in the label
    # The passport's fee lines: 0 and 1 non-electronic for 5 and 10 years, 2 and 3 electronic.
    assert picked("biaya paspor elektronik")[1] == 2  # "non-elektronik" is not electronic
    assert picked("biaya paspor elektronik 10 tahun")[1] == 3
    assert picked("biaya paspor non elektronik")[1] == 0
    assert picked("syarat kia anak umur 10 tahun")[0] == 1  # "5 sampai 17 tahun"
    assert picked("syarat kia anak 3 tahun")[0] == 0  # "di bawah 5 tahun"
    assert picked("syarat paspor") == (None, None)  # no case named: every group is shown


@pytest.mark.parametrize(("question", "kind", "target"), [
    ("istri saya baru melahirkan, dokumen apa yang perlu diurus?", "situation", "kelahiran"),
    ("bapak saya meninggal, urus apa saja?", "situation", "kematian"),
    ("I want to start a small food business, which permit do I need", "situation", "usaha"),
    # "open" inside the life event's own words asks no opening hours.
    ("i want to open a shop", "situation", "usaha"),
    ("I want to open a small food stall, what permits do I need", "situation", "usaha"),
    ("mau berangkat umroh, apa yang harus disiapkan", "situation", "luar-negeri"),
    ("ada tempat parkir mobil?", "entry", "parkir"),
    ("can I pay by credit card", "entry", "bayar-kartu"),
    ("terima kasih infonya", "small_talk", "thanks"),
    ("halo", "small_talk", "greeting"),
    ("saya mau lapor ada pungli di loket", "complaint", "levy"),
    ("the officer asked me for money", "complaint", "levy"),
    ("mau lapor pelayanan lambat", "complaint", "slow"),
])
def test_intents_life_events_and_entries(understander, question, kind, target):
    reading = understander.understand(question, None, today=WEDNESDAY)
    assert (reading.kind, reading.target) == (kind, target)


def test_a_named_service_wins_over_life_event_words(understander):
    assert understander.understand("mau pindah domisili ke jakarta syaratnya apa").parts == [
        Part("pindah-domisili", "requirements", ())]
    # The price of a hospital birth or an umroh package is not the office's to answer.
    assert understander.understand("biaya umroh berapa").kind == "unknown"


def test_status_and_open_day_in_words(understander):
    assert understander.understand("gimana cek status KTP saya").kind == "status"
    assert understander.understand("how can I check the status of my application").kind == \
        "status"
    saturday = understander.understand("sabtu buka?", None, today=WEDNESDAY)
    assert (saturday.kind, saturday.day) == ("open_day", date(2026, 12, 5))
    assert understander.understand("open on Friday?", None, today=WEDNESDAY).day == \
        date(2026, 12, 4)
    assert understander.understand("hari ini buka?", None, today=WEDNESDAY).day == WEDNESDAY
    # A calendar day in words: the next such day from today, the year given or not.
    for question, day in (
        ("tgl 25 desember buka ga", date(2026, 12, 25)),
        ("are you open on december 31st?", date(2026, 12, 31)),
        ("apakah 1 januari buka", date(2027, 1, 1)),
        ("buka tanggal 5?", date(2026, 12, 5)),
        ("tgl 1 buka?", date(2027, 1, 1)),  # the 1st of this month has passed
        ("open on 17 august 2027?", date(2027, 8, 17)),
        ("lusa buka?", date(2026, 12, 4)),
    ):
        reading = understander.understand(question, None, today=WEDNESDAY)
        assert (reading.kind, reading.day) == ("open_day", day), question
    # Not a day: a clock time, an impossible date.
    assert understander.understand("buka jam 8?", None, today=WEDNESDAY).kind != "open_day"
    assert understander.understand("tgl 31 februari buka", None, today=WEDNESDAY).day is None


def test_typos_and_slang(understander):
    part = understander.understand("brp lma bkin kk").parts[0]
    assert (part.service_id, part.topic) == ("kartu-keluarga", "duration")
    part = understander.understand("syrat pspor ilang apa aj").parts[0]
    assert (part.service_id, part.topic, part.variant) == ("paspor", "requirements",
                                                           ("hilang",))
    # One reading through typos: answered; two readings: the citizen chooses.
    part = understander.understand("pspor elektronk brp").parts[0]
    assert (part.service_id, part.topic, part.variant) == ("paspor", "fee", ("elektronik",))
    # Two topics asked as weakly: how much, or how many days? The citizen chooses.
    tied = understander.understand("paspor jadi berapa")
    assert tied.kind == "clarify" and tied.options == [Part("paspor", "duration"),
                                                       Part("paspor", "fee")]
    unsure = understander.understand("sertifikat harganya berapa")
    assert unsure.kind in ("clarify", "unknown") and not unsure.parts
    for question in ("cara daftar cpns 2027", "what is the weather in Bogor",
                     "berapa harga tiket kereta ke bandung", "tell me a joke"):
        assert understander.understand(question).kind == "unknown", question


def test_context_in_the_database_expires_and_is_cleared(db):
    save_context(db, 77, DialogueContext("paspor", "fee", ("class:a", "baru")))
    assert load_context(db, 77) == DialogueContext("paspor", "fee", ("class:a", "baru"))
    later = utcnow() + CONTEXT_TTL + timedelta(minutes=1)
    assert load_context(db, 77, now=later).empty  # silence: forgotten
    save_context(db, 77, DialogueContext("sim", "requirements"))  # replaced, not added
    assert load_context(db, 77).service_id == "sim"
    clear_context(db, 77)
    assert load_context(db, 77).empty
    clear_context(db, 77)  # nothing to clear is fine


def test_the_context_is_exported_and_erased_with_the_citizens_data(db):
    from bot.privacy.registry import erase_personal_data, export_personal_data

    save_context(db, 78, DialogueContext("kia", "requirements", (), "c:levy", "minta uang"))
    with db.session() as session:
        assert export_personal_data(session, 78)["dialogue_context"]["pending_text"] == \
            "minta uang"
        assert "What we were talking about was forgotten." in erase_personal_data(session, 78)
    assert load_context(db, 78).empty


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target)
    return target


def test_situations_are_validated_with_file_and_line(kb_dir):
    path = kb_dir / "situations" / "kelahiran.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - service: kia\n    variant: bawah-5",
                                 "  - service: kia\n    variant: balita")
                    .replace("service: bpjs-kesehatan", "service: bpjs"), encoding="utf-8")
    (kb_dir / "entries" / "broken.yaml").write_text("id: parkir\nquestion: x\nanswer: y\n",
                                                     encoding="utf-8")
    kb = load_knowledge(kb_dir)
    with pytest.raises(KnowledgeError) as err:
        load_library(kb)
    problems = [str(p) for p in err.value.problems]
    lines = text.splitlines()
    variant_line = next(n for n, line in enumerate(lines, 1) if "variant: bawah-5" in line)
    assert f"{path}:{variant_line}: steps[2].variant: kia has no requirement variant " \
           "'balita'; it has: bawah-5, 5-17" in problems
    assert any(p.startswith(f"{path}:") and "unknown service 'bpjs'" in p for p in problems)
    assert f"{kb_dir / 'entries' / 'broken.yaml'}:1: keywords: required field is missing" in \
        problems


def test_the_sample_library_is_valid():
    library = load_library(load_knowledge(SAMPLE))
    assert {"kelahiran", "kematian", "pernikahan", "pindah-rumah", "usaha", "bangun-rumah",
            "kerja-baru", "luar-negeri"} <= set(library.situations)
    assert {"parkir", "kursi-roda", "diwakilkan", "bayar-kartu"} <= set(library.entries)



def test_open_on_a_day_counts_holidays_and_closures():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.conversation.render import render_open_day
    from bot.core.i18n import Translator
    from bot.core.workdays import WorkingCalendar

    kb = load_knowledge(SAMPLE)
    calendar = WorkingCalendar(ZoneInfo("Asia/Jakarta"), closed_dates=kb.office.closed_dates)
    wednesday_morning = datetime(2026, 12, 23, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
    christmas = render_open_day(kb, calendar, date(2026, 12, 25), None, Translator("id"),
                                wednesday_morning).html
    assert christmas.startswith("<b>Tidak</b>, Mal Pelayanan Publik Kota Harapan tutup pada "
                                "Jumat, 25 Desember (Hari Raya Natal).")
    assert "Buka kembali pada Senin, 28 Desember: 08:00-15:00." in christmas
    assert "Hari ini: 08:00-15:00." in christmas
    # The office's own closure from office.yaml, in English.
    year_end = render_open_day(kb, calendar, date(2026, 12, 31), None, Translator("en"),
                               wednesday_morning).html
    assert "is closed on Thursday, 31 December (Year-end closing and system maintenance)" in \
        year_end
    today = render_open_day(kb, calendar, date(2026, 12, 23), None, Translator("en"),
                            wednesday_morning).html
    assert today.startswith("<b>Yes</b>, Mal Pelayanan Publik Kota Harapan is open today: "
                            "08:00-15:00.")
    # A service with its own hours answers with them.
    passport = render_open_day(kb, calendar, date(2026, 12, 23), kb.services["paspor"],
                               Translator("id"), wednesday_morning).html
    assert passport.startswith("<b>Ya</b>, Paspor buka hari ini: 08:00-14:00.")
