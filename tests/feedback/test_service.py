"""The unanswered-questions domain without Telegram: masking, deduplication, office hours,
retention, CSV cells and periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.config import load_settings
from bot.core.models import AuditEntry
from bot.core.workdays import WorkingCalendar
from bot.feedback import log as fl
from bot.feedback.handoff import hand_over, office_hours
from bot.feedback.models import OfficerQuestion, QuestionAsk, UnansweredQuestion
from bot.qa.loader import load_knowledge
from tests.support.e2e import REPO

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("nik saya 3201234567890123 ktp hilang", (), "nik saya [NIK] ktp hilang"),
        ("hubungi +62 812-3456-7890 ya", (), "hubungi [phone] ya"),
        ("Nama saya Budi Santoso, mau tanya KK", (), "Nama saya [name], mau tanya KK"),
        ("my name is Ann Lee. passport?", (), "my name is [name]. passport?"),
        ("nama saya budi mau tanya syarat KK", (), "nama saya [name] mau tanya syarat KK"),
        ("sari@mail.co.id minta formulir", (), "[email] minta formulir"),
        ("saya Sari, akte anak saya", ("Sari",), "saya [name], akte anak saya"),
        ("kk no 3201 0123 4567 8901", (), "kk no [number]"),
        ("rekening 1234567890123, lahir 2026-12-02", (), "rekening [number], lahir 2026-12-02"),
        ("denda Rp10.000.000?", (), "denda Rp10.000.000?"),
        ("syarat\x00\x07 ktp\u202e\nbaru", (), "syarat ktp baru"),
    ],
)
def test_mask_question(text: str, names: tuple[str, ...], expected: str) -> None:
    assert fl.mask_question(text, names) == expected


def test_normalised_text_ignores_case_punctuation_and_spacing() -> None:
    assert fl.normalise("Boleh bawa KUCING ke  dalam gedung ??") == fl.normalise(
        "boleh bawa kucing ke dalam gedung?"
    )
    assert fl.normalise("nik [NIK] hilang") == "nik [nik] hilang"


def test_periods() -> None:
    assert fl.parse_since("30d", NOW) == NOW - timedelta(days=30)
    assert fl.parse_since("2w", NOW) == NOW - timedelta(days=14)
    assert fl.parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="30d"):
        fl.parse_since("last month", NOW)
    assert fl.digest_week(date(2026, 12, 9)) == (date(2026, 11, 30), date(2026, 12, 7))
    assert fl.digest_key(-100, date(2026, 11, 30)) == "unanswered-digest:-100:2026-W49"


def _jakarta(*args: int) -> datetime:
    return datetime(*args, tzinfo=load_settings().tz).astimezone(UTC)


def test_office_hours_follow_the_opening_hours_and_the_calendar() -> None:
    kb = load_knowledge(REPO / "knowledge")
    calendar = WorkingCalendar(load_settings().tz, closed_dates=kb.office.closed_dates)
    assert office_hours(kb, calendar, _jakarta(2026, 12, 2, 10, 0)).open_now
    # Friday prayer break: 11:30-13:00 closed, open again at 13:00 the same day.
    friday = office_hours(kb, calendar, _jakarta(2026, 12, 4, 12, 0))
    assert not friday.open_now and friday.next_opening == _jakarta(2026, 12, 4, 13, 0)
    # After closing on Wednesday: Thursday 08:00.
    assert office_hours(kb, calendar, _jakarta(2026, 12, 2, 15, 0)).next_opening == _jakarta(
        2026, 12, 3, 8, 0
    )
    # 24 December (joint leave), 25 (Christmas), the weekend, then the office's own closure on
    # 31 December and New Year: the next opening is 28 December.
    christmas = office_hours(kb, calendar, _jakarta(2026, 12, 23, 16, 0))
    assert christmas.next_opening == _jakarta(2026, 12, 28, 8, 0)
    year_end = office_hours(kb, calendar, _jakarta(2026, 12, 30, 16, 0))
    assert year_end.next_opening == _jakarta(2027, 1, 4, 8, 0)


def test_repeated_questions_count_on_one_row_and_old_asks_are_forgotten(db) -> None:  # noqa: ANN001
    with db.session() as s:
        for user, text in ((1, "Boleh parkir motor?"), (2, "boleh parkir motor"), (3, "x y z")):
            fl.record_question(s, user_id=user, chat_id=user, locale="id", text=text,
                               service_id=None, topic=None, understood=False, now=NOW)
        answered = fl.record_question(s, user_id=4, chat_id=4, locale="id", text="syarat ktp",
                                      service_id="ktp-el", topic="requirements",
                                      understood=True, now=NOW)
        assert fl.rate(s, answered, -1, now=NOW) and not fl.rate(s, answered, 1, now=NOW)
        unrated = fl.record_question(s, user_id=5, chat_id=5, locale="en", text="ktp fee",
                                     service_id="ktp-el", topic="fee", understood=True, now=NOW)
        handed, created = hand_over(s, s.get(QuestionAsk, 1), now=NOW)
        assert created and not hand_over(s, s.get(QuestionAsk, 1), now=NOW)[1]
    with db.session() as s:
        rows = {q.text: q for q in s.exec(select(UnansweredQuestion)).all()}
        assert rows["Boleh parkir motor?"].count == 2
        assert (rows["syarat ktp"].count, rows["syarat ktp"].rated_down) == (1, 1)
        top = fl.top_questions(s, scope=fl.Scope(frozenset({"ktp-el"})), since=NOW)
        assert [(q.text, q.count) for q in top] == [
            ("Boleh parkir motor?", 2), ("x y z", 1), ("syarat ktp", 1)
        ]
        assert fl.top_questions(s, scope=fl.Scope(frozenset()), since=NOW + timedelta(1)) == []

    with db.session() as s:
        assert fl.forget_old_asks(s, now=NOW + fl.UNRATED_TTL + timedelta(minutes=1)) == 1
        assert s.get(QuestionAsk, unrated.id) is None
    with db.session() as s:
        # Who asked goes after ASKER_TTL; the hand-off keeps its exchange without the citizen.
        assert fl.forget_old_asks(s, now=NOW + fl.ASKER_TTL + timedelta(minutes=1)) == 4
        assert s.exec(select(QuestionAsk)).all() == []
        kept = s.get(OfficerQuestion, handed.id)
        assert (kept.user_id, kept.ask_id, kept.text) == (0, None, "Boleh parkir motor?")
        # The log keeps its totals, and lists them for a long period, counted 0 in it.
        later = fl.top_questions(s, since=NOW - timedelta(days=1), limit=None)
        assert [(q.text, q.count, q.total) for q in later][:1] == [("Boleh parkir motor?", 0, 2)]
        assert len(later) == 3
        assert fl.top_questions(s, since=NOW + timedelta(days=1), limit=None) == []


def test_a_handled_question_leaves_the_lists_until_asked_again(db) -> None:  # noqa: ANN001
    def ask(s, user: int, text: str, at: datetime) -> None:  # noqa: ANN001
        fl.record_question(s, user_id=user, chat_id=user, locale="id", text=text,
                           service_id=None, topic=None, understood=False, now=at)

    with db.session() as s:
        for user in (1, 2, 3):
            ask(s, user, "Ada mushola?", NOW)
        ask(s, 4, "ada wifi?", NOW)
    with db.session() as s:
        mushola = s.exec(select(UnansweredQuestion).where(
            UnansweredQuestion.text == "Ada mushola?")).one()
        fl.mark_handled(s, mushola, actor_id=300, handled_as="entries/mushola.yaml",
                        now=NOW + timedelta(hours=1))
    with db.session() as s:
        assert [q.text for q in fl.top_questions(s, since=NOW - timedelta(days=1))] == [
            "ada wifi?"]
        row = s.get(UnansweredQuestion, mushola.id)
        assert (row.handled_by, row.handled_as) == (300, "entries/mushola.yaml")
        assert s.exec(select(AuditEntry).where(
            AuditEntry.action == "unanswered.handled")).one().actor_id == 300
        # Asked again, and again not answered: back, counted from the handling on.
        ask(s, 5, "ada mushola", NOW + timedelta(hours=2))
    with db.session() as s:
        top = fl.top_questions(s, since=NOW - timedelta(days=1))
        assert [(q.text, q.count, q.total) for q in top] == [
            ("Ada mushola?", 1, 4), ("ada wifi?", 1, 1)]


def test_a_unit_sees_its_services_and_the_office_wide_questions() -> None:
    units = {"ktp-el": "kependudukan", "paspor": "imigrasi"}
    scope = fl.Scope.of_unit("kependudukan", units, units.get)
    assert scope.services == frozenset({"ktp-el"})
    assert scope.covers(UnansweredQuestion(key="a", text="a", service_id="ktp-el"))
    assert scope.covers(UnansweredQuestion(key="b", text="b", service_id=None))
    assert not scope.covers(UnansweredQuestion(key="c", text="c", service_id="paspor"))
    assert fl.Scope.of_unit(None, units, units.get).services is None
    # The chat's rule (bot/people/scope.py): admins and staff in no unit see every question;
    # officers and supervisors in a unit their unit's.
    assert fl.Scope.for_staff("admin", "kependudukan", units, units.get).services is None
    assert fl.Scope.for_staff("supervisor", None, units, units.get).services is None
    assert fl.Scope.for_staff("supervisor", "kependudukan", units, units.get).services == (
        frozenset({"ktp-el"}))
    assert fl.Scope.for_staff("officer", "imigrasi", units, units.get).services == frozenset(
        {"paspor"})
