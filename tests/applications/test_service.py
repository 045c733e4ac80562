"""Applications without Telegram: tracking numbers, moves, due dates, lockout, notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

import bot.applications.service as applications_service
from bot.applications.bulk import CsvProblem, bulk_update, read_status_csv
from bot.applications.errors import IllegalMove, InvalidInput, LookupLocked, LookupRefused, NotFound
from bot.applications.lookup import follow, lookup, unfollow
from bot.applications.service import (
    change_status,
    find_applications,
    get_application,
    overdue_applications,
    register_application,
)
from bot.applications.statuses import ServiceSteps, allowed_next
from bot.applications.tracking import (
    ALPHABET,
    _check_char,
    format_tracking_number,
    new_tracking_number,
    normalize_tracking_number,
)
from bot.core.i18n import Translator
from bot.core.models import AuditEntry, User
from bot.core.workdays import WorkingCalendar
from bot.outbox.models import OutboxMessage
from tests.support.applications import STEPPED, make_runtime

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def rt(db):
    return make_runtime(db)


def _register(rt, service_id="ktp-el", now=None, name="Siti Aminah"):
    with rt.db.session() as s:
        return register_application(
            s, rt, service_id=service_id, applicant_name=name, phone="0812 3456 7890",
            actor_id=900, now=now,
        )


def _move(rt, number, status, note=None, now=None):
    with rt.db.session() as s:
        return change_status(
            s, rt, tracking_number=number, status=status, note=note, actor_id=900, now=now
        )


# --- tracking numbers ---------------------------------------------------------------------


def test_tracking_numbers_are_printable_and_self_checking():
    numbers = {new_tracking_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert len(number) == 8
        assert not set(number) & set("ILOU")
        assert normalize_tracking_number(number) == number
    number = sorted(numbers)[0]
    shown = format_tracking_number(number)
    assert normalize_tracking_number(f"  {shown.lower()} ") == number
    # Every single wrong character is caught by the check character.
    for i in range(8):
        for ch in ALPHABET:
            if ch != number[i]:
                assert normalize_tracking_number(number[:i] + ch + number[i + 1 :]) is None
    assert normalize_tracking_number("K7QM3XP") is None
    assert normalize_tracking_number("not a number") is None


def test_lookalike_letters_read_as_digits():
    body = "0011ABC"
    number = body + _check_char(body)
    assert normalize_tracking_number("OoIl-ABC" + number[-1]) == number


# --- moves ----------------------------------------------------------------------------------


def test_the_documented_moves():
    assert allowed_next("received") == [
        "in_verification", "needs_correction", "in_process", "ready_for_pickup", "completed",
        "rejected",
    ]
    assert allowed_next("needs_correction") == ["in_verification", "in_process", "rejected"]
    assert allowed_next("ready_for_pickup") == ["in_process", "completed"]
    assert allowed_next("completed") == []
    assert allowed_next("rejected") == []


def test_illegal_moves_are_refused_with_a_reason(rt):
    application = _register(rt)
    number = application.tracking_number
    _move(rt, number, "in_process")
    with pytest.raises(IllegalMove) as err:
        _move(rt, number, "received")
    assert "cannot go from in_process to received" in str(err.value)
    assert "Allowed next: needs_correction, ready_for_pickup, completed, rejected" in str(err.value)
    id_text = err.value.message(Translator("id"))
    assert "diproses" in id_text.lower()  # the reason in the officer's language
    with pytest.raises(IllegalMove, match="note is required"):
        _move(rt, number, "needs_correction")
    _move(rt, number, "needs_correction", note="Fotokopi KK kurang jelas")
    _move(rt, number, "in_verification")
    _move(rt, number, "completed")
    with pytest.raises(IllegalMove, match="cannot change any more"):
        _move(rt, number, "in_process")
    with rt.db.session() as s:
        stored = get_application(s, number)
        assert stored.status == "completed"
        assert stored.closed_at is not None
        history = [(e.status, e.note) for e in applications_service.history(s, stored)]
    assert history == [
        ("received", None),
        ("in_process", None),
        ("needs_correction", "Fotokopi KK kurang jelas"),
        ("in_verification", None),
        ("completed", None),
    ]


def test_unknown_status_and_number_are_clear(rt):
    application = _register(rt)
    with pytest.raises(InvalidInput, match="Unknown status done"):
        _move(rt, application.tracking_number, "done")
    with pytest.raises(NotFound, match="not a valid tracking number"):
        _move(rt, "XXXX", "in_process")


def test_a_service_renames_and_omits_steps(rt):
    application = _register(rt, service_id=STEPPED)
    steps = ServiceSteps.of(rt.knowledge.services[STEPPED])
    assert steps.label("ready_for_pickup", Translator("en")) == "Ready to post"
    assert steps.label("ready_for_pickup", Translator("id")) == "Siap dikirim"
    assert steps.label("in_process", Translator("en")) == "In process"
    assert "in_verification" not in steps.next_steps("received")
    with pytest.raises(IllegalMove, match="does not use the step"):
        _move(rt, application.tracking_number, "in_verification")
    _move(rt, application.tracking_number, "ready_for_pickup")


def test_a_bad_statuses_mapping_is_named():
    kb_service = make_runtime.__globals__["knowledge_with_steps"]().services["ktp-el"]
    broken = kb_service.model_copy(update={"statuses": {"completed": False}})
    with pytest.raises(ValueError, match="cannot be omitted"):
        ServiceSteps.of(broken)
    broken = kb_service.model_copy(update={"statuses": {"finished": "Selesai"}})
    with pytest.raises(ValueError, match="unknown status 'finished'"):
        ServiceSteps.of(broken)


# --- due dates ------------------------------------------------------------------------------


def _local(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@pytest.mark.parametrize(
    ("received", "amount", "unit", "due_day"),
    [
        # Nyepi (18-19 March), Idul Fitri 1447 H (21-22 March) and its joint leave (20, 23, 24):
        # from Tuesday 17 March, three working days end on Friday 27 March.
        (_local(2026, 3, 17), 3, "working_days", (2026, 3, 27)),
        (_local(2026, 3, 16), 1, "working_days", (2026, 3, 17)),
        (_local(2026, 3, 17), 1, "working_days", (2026, 3, 25)),
        # Handed in on Lebaran itself: the clock starts on the first working day after.
        (_local(2026, 3, 21), 3, "working_days", (2026, 3, 27)),
        # 06:00 in Jakarta is still 24 March (a closed day) in UTC: the office's day counts.
        (_local(2026, 3, 25, 6), 1, "working_days", (2026, 3, 26)),
        # Year end: Christmas joint leave (24-25 Dec), the office's own closure on 31 December,
        # New Year's Day.
        (_local(2026, 12, 23), 3, "working_days", (2026, 12, 30)),
        (_local(2026, 12, 23), 4, "working_days", (2027, 1, 4)),
        (_local(2026, 12, 23), 14, "days", (2027, 1, 6)),
    ],
)
def test_due_dates_skip_holidays_joint_leave_and_closures(received, amount, unit, due_day):
    calendar = WorkingCalendar(WIB, closed_dates={datetime(2026, 12, 31).date()})
    due = calendar.due_at(received, amount, unit)
    local = due.astimezone(WIB)
    assert local.date() == datetime(*due_day).date()
    assert (local.hour, local.minute) == (23, 59)


def test_registering_uses_the_service_duration(rt):
    received = _local(2026, 3, 17, 9).astimezone(UTC)
    application = _register(rt, now=received)
    assert application.due_at.astimezone(WIB).date() == datetime(2026, 3, 25).date()
    with rt.db.session() as s:
        hours = register_application(
            s, rt, service_id="rawat-jalan", applicant_name="Budi", actor_id=1, now=received
        )
    assert hours.due_at == received + timedelta(hours=3)


def test_overdue_lists_the_oldest_first_and_skips_finished(rt):
    start = _local(2026, 3, 2).astimezone(UTC)
    first = _register(rt, now=start, name="Pertama")
    second = _register(rt, now=start + timedelta(days=1), name="Kedua")
    finished = _register(rt, now=start, name="Selesai")
    _register(rt, now=start + timedelta(days=30), name="Baru")
    _move(rt, finished.tracking_number, "completed", now=start + timedelta(days=10))
    with rt.db.session() as s:
        overdue = overdue_applications(s, now=start + timedelta(days=20))
        assert [a.applicant_name for a in overdue] == ["Pertama", "Kedua"]
        assert overdue[0].tracking_number == first.tracking_number
        assert overdue[1].tracking_number == second.tracking_number
        done = get_application(s, finished.tracking_number)
        assert done.is_overdue() is True  # finished after its due date


def test_find_by_number_or_part_of_the_name(rt):
    a = _register(rt, name="Siti Aminah")
    _register(rt, name="Budi Santoso")
    with rt.db.session() as s:
        assert [x.id for x in find_applications(s, a.display_number.lower())] == [a.id]
        assert [x.applicant_name for x in find_applications(s, "amin")] == ["Siti Aminah"]
        assert find_applications(s, "100%") == []


# --- citizens: lookup, lockout, follow ---------------------------------------------------------


def test_wrong_codes_lock_out_without_revealing_numbers(rt):
    application = _register(rt)
    now = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
    unknown = new_tracking_number()
    refusals = []
    for attempt in range(4):
        with pytest.raises(LookupRefused) as err, rt.db.session() as s:
            number = unknown if attempt % 2 else application.tracking_number
            lookup(s, user_id=7, tracking_text=number, code="000000",
                        now=now + timedelta(minutes=attempt))
        refusals.append(str(err.value))
    # An unknown number and a wrong code read exactly the same.
    assert len(set(refusals)) == 1
    # A mistyped number (check character) is pointed out and not counted.
    with pytest.raises(InvalidInput), rt.db.session() as s:
        lookup(s, user_id=7, tracking_text="ABCD-EFGH", code="1", now=now)
    with pytest.raises(LookupLocked), rt.db.session() as s:
        lookup(s, user_id=7, tracking_text=unknown, code="1",
                    now=now + timedelta(minutes=5))
    # Locked: even the right code is refused, and the wait is 15 minutes from the 5th attempt.
    with pytest.raises(LookupLocked) as err, rt.db.session() as s:
        lookup(s, user_id=7, tracking_text=application.tracking_number,
                    code=application.verification_code, now=now + timedelta(minutes=19))
    assert err.value.until == now + timedelta(minutes=20)
    # Someone else is not affected.
    with rt.db.session() as s:
        assert lookup(s, user_id=8, tracking_text=application.display_number,
                           code=application.verification_code, now=now).id == application.id
    with rt.db.session() as s:
        found = lookup(s, user_id=7, tracking_text=application.display_number,
                            code=application.verification_code, now=now + timedelta(minutes=20))
        assert found.id == application.id


def test_wrong_attempts_spread_out_do_not_lock(rt):
    application = _register(rt)
    now = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
    for attempt in range(8):
        with pytest.raises(LookupRefused), rt.db.session() as s:
            lookup(s, user_id=7, tracking_text=application.tracking_number, code="1",
                        now=now + timedelta(minutes=4 * attempt))


def test_a_status_change_reaches_each_follower_in_their_language(rt):
    application = _register(rt)
    with rt.db.session() as s:
        s.add(User(telegram_id=11, language="id"))
        s.add(User(telegram_id=12, language="en"))
        s.flush()
        assert follow(s, application=application, user_id=11)
        assert follow(s, application=application, user_id=12)
        assert not follow(s, application=application, user_id=12)
    _move(rt, application.tracking_number, "needs_correction", note="Bawa <KK> asli & KTP")
    with rt.db.session() as s:
        rows = {r.chat_id: r.payload["text"] for r in s.exec(select(OutboxMessage)).all()}
        audits = s.exec(select(AuditEntry).where(AuditEntry.action == "application.status")).all()
    assert set(rows) == {11, 12}
    assert "Perlu perbaikan" in rows[11]
    assert "Needs correction" in rows[12]
    for text in rows.values():
        assert "Bawa &lt;KK&gt; asli &amp; KTP" in text
        assert application.display_number in text
    assert [(a.actor_id, a.detail["before"], a.detail["after"]) for a in audits] == [
        (900, "received", "needs_correction")
    ]
    with rt.db.session() as s:
        assert unfollow(s, application_id=application.id, user_id=11)
    _move(rt, application.tracking_number, "in_verification")
    with rt.db.session() as s:
        assert len(s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 11)).all()) == 1
        assert len(s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 12)).all()) == 2


def test_final_status_hooks_run_in_the_same_transaction(rt):
    application = _register(rt)
    with rt.db.session() as s:
        follow(s, application=application, user_id=11)
    seen = []

    def hook(session, runtime, app):
        seen.append((app.tracking_number, app.status))
        if len(seen) == 1:
            raise RuntimeError("survey could not be queued")

    rt.events.application_completed.append(hook)
    try:
        with pytest.raises(RuntimeError):
            _move(rt, application.tracking_number, "completed")
        with rt.db.session() as s:
            # Nothing of the failed change is left: status, history, outbox.
            assert get_application(s, application.tracking_number).status == "received"
            assert s.exec(select(OutboxMessage)).all() == []
        _move(rt, application.tracking_number, "rejected", note="Bukan warga Kota Harapan")
        assert len(seen) == 1  # rejected is final but not "completed"
        other = _register(rt)
        _move(rt, other.tracking_number, "completed")
    finally:
        rt.events.application_completed.remove(hook)
    assert seen[-1] == (other.tracking_number, "completed")


# --- bulk CSV -------------------------------------------------------------------------------


def test_bulk_csv_applies_good_rows_and_reports_bad_ones(rt):
    a, b = _register(rt), _register(rt)
    data = (
        "tracking_number,status,note\n"
        f"{a.display_number},in_process,\n"
        f"{b.tracking_number},needs_correction,\n"
        "ZZZZ-ZZZZ,in_process,\n"
        "\n"
        f"{b.display_number},in_verification,dicek ulang\n"
        f"{a.tracking_number},received,\n"
    ).encode()
    report = bulk_update(rt, data, actor_id=900)
    assert report.applied == 2
    refused = {line: str(err) for line, err in report.refused}
    assert sorted(refused) == [3, 4, 7]
    assert "note is required" in refused[3]
    assert "not a valid tracking number" in refused[4]
    assert "cannot go from in_process to received" in refused[7]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\x00\x01binary", "not a CSV"),
        ("tracking_number,status\nK7QM,selesai\n".encode("utf-16"), "CSV"),
        (b"\xff\xfe\xfa broken", "not UTF-8"),
        (b"number;state\nA;B\n", "first line must be the header"),
    ],
)
def test_a_malformed_file_is_a_clear_message(data, reason):
    with pytest.raises(CsvProblem) as err:
        read_status_csv(data)
    assert reason in err.value.args[0]


def test_semicolon_csv_from_a_spreadsheet():
    data = "\ufefftracking_number;status;note\nK7QM-3XPA;in_process;ok\n".encode()
    rows = read_status_csv(data)
    assert rows == [(2, {"tracking_number": "K7QM-3XPA", "status": "in_process", "note": "ok"})]


def test_a_bad_statuses_mapping_stops_the_start(tmp_path):
    import shutil

    from bot.app import build_runtime
    from bot.core.config import PROJECT_ROOT, load_settings
    from bot.qa.knowledge import KnowledgeError

    shutil.copytree(PROJECT_ROOT / "knowledge", tmp_path / "knowledge")
    ktp = tmp_path / "knowledge" / "services" / "ktp-el.yaml"
    ktp.write_text(ktp.read_text() + "\nstatuses:\n  completed: false\n")
    settings = load_settings(
        knowledge_dir=tmp_path / "knowledge", database_url=f"sqlite:///{tmp_path}/x.db"
    )
    with pytest.raises(KnowledgeError) as err:
        build_runtime(settings)
    assert [p.field for p in err.value.problems] == ["ktp-el.statuses"]
    assert "cannot be omitted" in err.value.problems[0].message
