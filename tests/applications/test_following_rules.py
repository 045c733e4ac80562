"""The rules behind following an application (issue 19), without Telegram: reading a typed
number, phone numbers in one form, the start payload, placeholder notes, the pickup plan, and
the migration that puts the phones already stored into that form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.applications.links import parse_status_payload, status_link, status_payload
from bot.applications.models import Application, ApplicationMessage
from bot.applications.notices import meaningful_note
from bot.applications.phones import normalize_phone
from bot.applications.pickup import pickup_plan
from bot.applications.replies import answer_citizen, send_to_office
from bot.applications.service import change_status, register_application
from bot.applications.tracking import new_tracking_number, read_typed
from bot.core.models import utcnow
from bot.privacy.registry import apply_retention, erase_personal_data, export_personal_data
from tests.support.applications import make_runtime
from tests.support.migrations import database_at

NUMBER = "PFVYQG64"  # a valid number: its check character is 4


@pytest.mark.parametrize(
    ("typed", "number", "code"),
    [
        ("pfvy qg64", NUMBER, None),
        ("PFVY-QG64 123456", NUMBER, "123456"),
        ("pfvy.qg64", NUMBER, None),
        ("PFVY–QG64", NUMBER, None),  # an en dash, from a PDF
        ("nomor: pfvy qg64, kode 123 456", NUMBER, "123456"),
        ("123456 P F V Y Q G 6 4", NUMBER, "123456"),
        ("PFVYQG64123456", NUMBER, "123456"),
        ("K7QM-3XPA", None, None),  # the example on the receipt fails its check
        ("pfvy qg65 123456", None, "123456"),  # one wrong character is always caught
        ("berapa biaya bikin paspor", None, None),
    ],
)
def test_a_number_is_read_however_it_was_copied(typed, number, code):
    found = read_typed(typed)
    assert (found.number, found.code) == (number, code)


def test_lookalike_letters_read_as_digits():
    number = new_tracking_number()
    while "0" not in number and "1" not in number:
        number = new_tracking_number()
    typed = number.lower().replace("0", "o").replace("1", "l")
    assert read_typed(typed).number == number


@pytest.mark.parametrize(
    ("message", "taken"),
    [
        ("pfvy qg64", True),  # the number alone
        ("my number is PFVY-QG64", True),  # letters and digits
        ("kode 123456 PFVYQG64", True),
        ("cara buat ktp baru", False),
        # Words whose I, L or O read as digits make a valid number by chance: P1NDAHKE.
        ("saya mau pindah ke luar kota, urus apa dulu", False),
    ],
)
def test_a_number_in_free_text_must_be_sure(message, taken):
    assert read_typed(message).in_free_text is taken


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("0062 812 3456 7890", "+6281234567890"),
        ("(0251) 831 1111", "+622518311111"),
        ("+44 7700 900123", "+447700900123"),
        ("call me", None),
        ("0812", None),
        ("+0812345678", None),
    ],
)
def test_phone_numbers_in_one_form(typed, phone):
    assert normalize_phone(typed) == phone


def test_the_start_payload_is_the_number_and_code_within_telegrams_rules():
    application = Application(
        tracking_number=NUMBER, service_id="ktp-el", applicant_name="Ani",
        verification_code="012345", due_at=datetime.now(UTC),
    )
    payload = status_payload(application)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    assert payload == "st_PFVYQG64_012345"  # nothing beyond what the receipt shows
    assert parse_status_payload(payload) == (NUMBER, "012345")
    assert status_link("kantor_bot", application) == f"https://t.me/kantor_bot?start={payload}"
    for bad in ("st_PFVYQG65_012345", "st_PFVYQG64_01234", "INVABC", "st_PFVYQG64_012345_x"):
        assert parse_status_payload(bad) is None


@pytest.mark.parametrize(("note", "shown"), [("-", None), ("  ", None), ("—", None),
                                              (None, None), (" Pas foto ", "Pas foto")])
def test_a_placeholder_note_is_no_note(note, shown):
    assert meaningful_note(note) == shown


def test_the_pickup_plan_falls_back_to_the_office_and_skips_closed_days(sqlite_db):
    rt = make_runtime(sqlite_db)
    services = rt.knowledge.services
    # Ready on 2 December 2026: 30 days on is New Year's Day, a holiday; then a weekend.
    ready = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    passport = pickup_plan(rt, services["paspor"], ready)
    assert passport.counter.get("en") == "Counter 13 (passport collection)"
    assert str(passport.hours.monday[0]) == "13:00-15:00"
    assert passport.deadline == date(2027, 1, 4)
    assert [item.get("id") for item in passport.bring] == ["Bukti pembayaran PNBP", "KTP-el asli"]
    # A service without its own: its counter and the office's hours, deadline and note.
    nib = pickup_plan(rt, services["nib"], ready)
    assert nib.counter == services["nib"].location.counter
    assert nib.hours == rt.knowledge.office.opening_hours
    assert nib.deadline == date(2027, 1, 4)
    assert nib.bring == [] and nib.note == rt.knowledge.office.pickup.note


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_before_following(request, tmp_path):
    """A database at the revision before this feature's (0014_queue)."""
    db = database_at(request, tmp_path, "0014_queue")
    yield db
    db.dispose()


def test_the_migration_puts_stored_phones_in_one_form(db_before_following):
    db = db_before_following
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with db.engine.begin() as conn:
        for n, phone in enumerate(["0812-3456-7890", "+62 812 3456 7890", "nope", None], 1):
            conn.execute(
                text("INSERT INTO applications (id, tracking_number, service_id, applicant_name,"
                     " phone, verification_code, status, received_at, due_at, updated_at) VALUES"
                     " (:id, :tn, 'ktp-el', 'Ani', :phone, '123456', 'received', :now, :now,"
                     " :now)"),
                {"id": n, "tn": f"NUMBER{n:02d}", "phone": phone, "now": now},
            )
    db.upgrade()
    with db.engine.connect() as conn:
        phones = conn.execute(text("SELECT phone FROM applications ORDER BY id")).scalars().all()
    assert phones == ["+6281234567890", "+6281234567890", None, None]


def test_messages_with_the_office_are_exported_erased_and_expire(db):
    rt = make_runtime(db, officers_chat_id=-100)
    with db.session() as s:
        application = register_application(s, rt, service_id="ktp-el", applicant_name="Ani",
                                           actor_id=None)
        change_status(s, rt, tracking_number=application.tracking_number,
                      status="needs_correction", note="Pas foto kurang", actor_id=None)
        sent = send_to_office(s, rt, application=application, citizen_id=42, text="Besok")
        answer_citizen(s, rt, message_id=sent.id, officer_id=7, text="Baik")
        send_to_office(s, rt, application=application, citizen_id=43, text="Saya juga")
    with db.session() as s:
        doc = export_personal_data(s, 42)["applications"]["messages_with_the_office"]
        assert [(m["direction"], m["text"]) for m in doc] == [
            ("to_office", "Besok"), ("to_citizen", "Baik")
        ]
        erase_personal_data(s, 42)
    with db.session() as s:
        assert [m.citizen_id for m in s.exec(select(ApplicationMessage)).all()] == [43]
        change_status(s, rt, tracking_number=application.tracking_number, status="rejected",
                      note="Tidak lengkap", actor_id=None)
    later = utcnow() + timedelta(days=800)
    with db.session() as s:
        assert apply_retention(s, {"applications": 730}, now=later) == {"applications": 1}
    with db.session() as s:
        assert s.exec(select(ApplicationMessage)).all() == []
