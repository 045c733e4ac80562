"""Complaint rules on real databases: lifecycle, access, anonymity, time limits, jobs, reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.cli import main as cli_main
from bot.complaints.access import (
    IllegalMove,
    InvalidInput,
    LimitReached,
    NotAllowed,
    Viewer,
    can_handle,
    can_view,
    viewer_for,
)
from bot.complaints.dates import parse_occurred_on
from bot.complaints.feedback import explain_reopen, record_feedback, record_rating
from bot.complaints.filing import (
    Evidence,
    check_location,
    clean_description,
    file_complaint,
    filed_today,
    get_complaint,
    normalize_ticket,
)
from bot.complaints.handling import (
    add_addition,
    assign,
    mark_duplicate,
    reject,
    reply,
    resolve,
    take,
    verify,
)
from bot.complaints.lists import ListFilter, list_for_complainant, list_for_staff
from bot.complaints.models import Complaint, ComplaintMessage
from bot.complaints.queries import set_staff_unit, units
from bot.complaints.render import render_staff_card, render_staff_list
from bot.complaints.reports import complaint_report, export_rows, render_report
from bot.complaints.sla import close_silent, escalate_overdue
from bot.complaints.vocabulary import (
    ANONYMOUS,
    ASSIGNED,
    CLOSED,
    CONFIDENTIAL,
    DUPLICATE,
    IN_PROGRESS,
    NAMED,
    PRIORITY_HIGHEST,
    PRIORITY_NORMAL,
    RECEIVED,
    REJECTED,
    RESOLVED,
    TICKET_ALPHABET,
    categories,
    time_limits,
)
from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.errors import ConfigError
from bot.core.i18n import Translator
from bot.core.models import Staff, User
from bot.core.runtime import Runtime
from bot.core.workdays import WorkingCalendar
from bot.outbox.models import OutboxMessage
from bot.qa.loader import load_knowledge

JAKARTA = ZoneInfo("Asia/Jakarta")
GROUP = -100500
CITIZEN_EN, CITIZEN_ID = 1001, 1002
OFFICER_A, OFFICER_B, SUPERVISOR = 2001, 2002, 3001
# Friday 20 November 2026, 10:00 WIB.
FILED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
DESCRIPTION = "The counter asked me for Rp50.000 to print my KTP <faster>, with no receipt."


def wib(year: int, month: int, day: int, hour: int = 23, minute: int = 59, sec: int = 59):
    return datetime(year, month, day, hour, minute, sec, tzinfo=JAKARTA).astimezone(UTC)


@pytest.fixture
def rt(db) -> Runtime:
    settings = load_settings(complaints_chat_id=GROUP, timezone="Asia/Jakarta")
    with db.session() as s:
        s.add(User(telegram_id=CITIZEN_EN, language="en"))
        s.add(User(telegram_id=CITIZEN_ID, language="id"))
        # Officer A and the group (DEFAULT_LOCALE) read Indonesian, the supervisor English.
        s.add(User(telegram_id=OFFICER_A, language="id"))
        s.add(User(telegram_id=SUPERVISOR, language="en"))
        s.add(Staff(telegram_id=OFFICER_A, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=OFFICER_B, role="officer", unit="Perizinan"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    return Runtime(settings=settings, db=db, calendar=WorkingCalendar(JAKARTA))


def file(rt: Runtime, s, **kw) -> Complaint:
    args = {
        "complainant_id": CITIZEN_EN,
        "complainant_name": "Siti Rahayu",
        "category": "slow_service",
        "description": DESCRIPTION,
        "privacy": NAMED,
        "now": FILED,
    }
    args.update(kw)
    return file_complaint(s, rt, **args)


def viewer(s, telegram_id: int) -> Viewer:
    return viewer_for(s, telegram_id)


def outbox(s, chat_id: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    return list(s.exec(query).all())


def texts(s, chat_id: int) -> list[str]:
    return [m.payload.get("text", "") for m in outbox(s, chat_id)]


def test_filing_posts_to_the_group_with_evidence_and_location(rt, db):
    with db.session() as s:
        c = file(
            rt,
            s,
            evidence=[Evidence("photo", "PHOTO-1"), Evidence("document", "DOC-1")],
            location=(-6.1754, 106.8272),
            occurred_on=date(2026, 11, 19),
            service_id="ktp",
        )
        ticket = c.ticket
    assert normalize_ticket(ticket) == ticket
    assert set(ticket[4:]) <= set(TICKET_ALPHABET)
    with db.session() as s:
        group = outbox(s, GROUP)
        assert [m.method for m in group] == [
            "sendMessage",
            "sendLocation",
            "sendPhoto",
            "sendDocument",
        ]
        post = group[0].payload
        assert ticket in post["text"]
        # The citizen's text is escaped; the officers' buttons carry the ticket's id.
        assert "&lt;faster&gt;" in post["text"] and "<faster>" not in post["text"]
        data = [b["callback_data"] for row in post["reply_markup"]["inline_keyboard"] for b in row]
        assert data == [f"cx:{a}:{c.id}" for a in ("take", "asg", "rep", "res", "rej")]
        assert group[1].payload == {"latitude": -6.1754, "longitude": 106.8272}
        assert group[2].payload["photo"] == "PHOTO-1"
        assert group[3].payload["document"] == "DOC-1"
        # Not a supervisory category: supervisors are not disturbed.
        assert outbox(s, SUPERVISOR) == []


def test_named_complaint_from_filing_to_closure(rt, db):
    with db.session() as s:
        cid = file(rt, s).id
    with db.session() as s:
        c = get_complaint(s, cid, for_update=True)
        take(s, rt, c, actor=viewer(s, OFFICER_A), now=FILED + timedelta(hours=1))
        assert (c.status, c.assignee_id, c.unit) == (ASSIGNED, OFFICER_A, "Dukcapil")
        assert c.verified_at is not None
    with db.session() as s:
        c = get_complaint(s, cid)
        reply(
            s,
            rt,
            c,
            actor=viewer(s, OFFICER_A),
            body="We are checking <the counter>.",
            now=FILED + timedelta(hours=2),
        )
        assert c.status == IN_PROGRESS
        assert c.first_response_at == FILED + timedelta(hours=2)
    with db.session() as s:
        c = get_complaint(s, cid)
        add_addition(
            s,
            rt,
            c,
            complainant_id=CITIZEN_EN,
            body="It was counter 3.",
            evidence=[Evidence("photo", "PHOTO-2")],
        )
        resolve(
            s,
            rt,
            c,
            actor=viewer(s, OFFICER_A),
            answer="The officer was warned.",
            now=FILED + timedelta(days=1),
        )
        assert c.status == RESOLVED
        record_feedback(
            s, rt, c, complainant_id=CITIZEN_EN, solved=True, now=FILED + timedelta(days=2)
        )
        record_rating(s, rt, c, complainant_id=CITIZEN_EN, rating=4)
        assert (c.status, c.solved, c.rating) == (CLOSED, True, 4)
    with db.session() as s:
        mine = texts(s, CITIZEN_EN)
        # One notice per change, in the complainant's language (English), in order.
        assert "has been given to an officer" in mine[0] or "is now handled by" in mine[0]
        assert "Reply from the office" in mine[1] and "&lt;the counter&gt;" in mine[1]
        assert "has been answered" in mine[2] and "The officer was warned." in mine[2]
        assert "is closed" in mine[3]
        assert len(mine) == 4
        officer = outbox(s, OFFICER_A)
        assert "Pelapor menambahkan keterangan" in officer[0].payload["text"]
        assert officer[1].method == "sendPhoto" and officer[1].payload["photo"] == "PHOTO-2"
        thread = s.exec(select(ComplaintMessage).order_by(ComplaintMessage.id)).all()
        assert [m.author_kind for m in thread] == ["officer", "complainant", "officer"]


def test_notices_follow_the_complainants_language(rt, db):
    with db.session() as s:
        c = file(rt, s, complainant_id=CITIZEN_ID)
        verify(s, rt, c, actor=viewer(s, SUPERVISOR), now=FILED)
    with db.session() as s:
        (notice,) = texts(s, CITIZEN_ID)
        assert "Pengaduan Anda" in notice and "sudah diperiksa" in notice


def test_illegal_moves_change_nothing(rt, db):
    with db.session() as s:
        c = file(rt, s)
        officer = viewer(s, OFFICER_A)
        with pytest.raises(IllegalMove):
            record_feedback(s, rt, c, complainant_id=CITIZEN_EN, solved=True)
        take(s, rt, c, actor=officer)
        with pytest.raises(IllegalMove):
            take(s, rt, c, actor=officer)
        reply(s, rt, c, actor=officer, body="On it.")
        with pytest.raises(IllegalMove):
            reject(s, rt, c, actor=officer, reason="No")
        with pytest.raises(IllegalMove):
            record_rating(s, rt, c, complainant_id=CITIZEN_EN, rating=5)
        resolve(s, rt, c, actor=officer, answer="Done.")
        record_feedback(s, rt, c, complainant_id=CITIZEN_EN, solved=True)
        before = len(outbox(s))
        for action in (
            lambda: resolve(s, rt, c, actor=officer, answer="Again."),
            lambda: reply(s, rt, c, actor=officer, body="Hello?"),
            lambda: take(s, rt, c, actor=viewer(s, SUPERVISOR)),
            lambda: add_addition(s, rt, c, complainant_id=CITIZEN_EN, body="More"),
        ):
            with pytest.raises(IllegalMove):
                action()
        assert c.status == CLOSED
        assert len(outbox(s)) == before
        with pytest.raises(InvalidInput):
            record_rating(s, rt, c, complainant_id=CITIZEN_EN, rating=6)


def test_rejected_and_duplicate_are_final(rt, db):
    with db.session() as s:
        first = file(rt, s)
        second = file(rt, s)
        third = file(rt, s)
        sup = viewer(s, SUPERVISOR)
        mark_duplicate(s, rt, second, actor=sup, original=first)
        reject(s, rt, third, actor=sup, reason="Not about our office.")
        assert (second.status, second.duplicate_of_id) == (DUPLICATE, first.id)
        assert third.status == REJECTED
        with pytest.raises(InvalidInput):
            mark_duplicate(s, rt, first, actor=sup, original=first)
        for c in (second, third):
            with pytest.raises(IllegalMove):
                take(s, rt, c, actor=sup)
        notices = texts(s, CITIZEN_EN)
        assert first.ticket in notices[0] and "already handled under ticket" in notices[0]
        assert "Not about our office." in notices[1]


def test_not_solved_reopens_and_tells_the_officer(rt, db):
    with db.session() as s:
        c = file(rt, s)
        officer = viewer(s, OFFICER_A)
        take(s, rt, c, actor=officer)
        resolve(s, rt, c, actor=officer, answer="Fixed.")
        record_feedback(s, rt, c, complainant_id=CITIZEN_EN, solved=False)
        assert (c.status, c.reopen_count, c.resolved_at) == (IN_PROGRESS, 1, None)
        # The handling officer and the group hear at once; the complainant is asked in the
        # chat what is still wrong (no second notice queued for them).
        assert "belum selesai" in texts(s, OFFICER_A)[-1]
        assert "belum selesai" in texts(s, GROUP)[-1]
        assert "Is your problem solved?" in texts(s, CITIZEN_EN)[-1]
        explain_reopen(s, rt, c, complainant_id=CITIZEN_EN, body="The queue is still long.")
        assert "The queue is still long." in texts(s, OFFICER_A)[-1]
        assert "The queue is still long." in texts(s, GROUP)[-1]
        record_rating(s, rt, c, complainant_id=CITIZEN_EN, rating=2)
        # Two stars: the supervisors over the ticket's unit see it.
        low = texts(s, SUPERVISOR)[-1]
        assert "Low rating for complaint" in low and "2 of 5" in low and "not solved" in low
        resolve(s, rt, c, actor=officer, answer="Fixed for real.")
        # A new answer asks again.
        assert (c.solved, c.rating, c.feedback_at) == (None, None, None)
        record_feedback(s, rt, c, complainant_id=CITIZEN_EN, solved=True)
        record_rating(s, rt, c, complainant_id=CITIZEN_EN, rating=5)
        assert sum("Low rating" in t for t in texts(s, SUPERVISOR)) == 1  # five stars: none
        figures = complaint_report(s, rt, date(2026, 11, 1), date(2026, 11, 30)).satisfaction
        assert (figures.ratings, figures.average, figures.answered, figures.reopened) == (
            1, 5.0, 1, 1
        )


def test_officers_handle_only_their_units_tickets(rt, db):
    with db.session() as s:
        c = file(rt, s)
        a, b, sup = viewer(s, OFFICER_A), viewer(s, OFFICER_B), viewer(s, SUPERVISOR)
        citizen, other = viewer(s, CITIZEN_EN), viewer(s, CITIZEN_ID)
        # New tickets are the shared inbox: every officer may take them.
        assert can_handle(a, c) and can_handle(b, c)
        assign(s, rt, c, actor=sup, unit="Dukcapil")
        assert can_handle(a, c) and not can_handle(b, c) and can_handle(sup, c)
        assert can_view(citizen, c) and not can_handle(citizen, c)
        assert not can_view(other, c)
        with pytest.raises(NotAllowed):
            reply(s, rt, c, actor=b, body="Not mine.")
        with pytest.raises(NotAllowed):
            take(s, rt, c, actor=citizen)
        with pytest.raises(NotAllowed):
            add_addition(s, rt, c, complainant_id=CITIZEN_ID, body="Someone else's ticket")
        with pytest.raises(NotAllowed):
            record_feedback(s, rt, c, complainant_id=CITIZEN_ID, solved=True)
        take(s, rt, c, actor=a)
        # Held by A: B cannot take it over, a supervisor can.
        with pytest.raises(NotAllowed):
            take(s, rt, c, actor=b)
        every = ListFilter(status="all")
        assert [x.id for x in list_for_staff(s, a, every)] == [c.id]
        assert list_for_staff(s, b, every) == []
        assert list_for_staff(s, citizen, every) == []
        assert [x.id for x in list_for_staff(s, sup, every)] == [c.id]
        assert [x.id for x in list_for_complainant(s, CITIZEN_EN)] == [c.id]
        assert list_for_complainant(s, CITIZEN_ID) == []
        with pytest.raises(InvalidInput):
            assign(s, rt, c, actor=sup, unit="Nowhere")


def test_anonymous_complainant_never_reaches_officers(rt, db):
    secret_name = "Budi Santoso"
    with db.session() as s:
        c = file(
            rt,
            s,
            privacy=ANONYMOUS,
            complainant_name=secret_name,
            category="illegal_levy",
            evidence=[Evidence("photo", "P")],
        )
        named = file(rt, s, complainant_id=CITIZEN_ID, complainant_name="Siti Rahayu")
        assert c.complainant_name is None
        take(s, rt, c, actor=viewer(s, OFFICER_A))
        add_addition(s, rt, c, complainant_id=CITIZEN_EN, body="Another detail here.")
        escalate_overdue(s, rt, now=c.resolve_due + timedelta(days=1))
        tr = Translator("en")
        officer_texts = [
            m.payload.get("text") or m.payload.get("caption") or ""
            for m in outbox(s)
            if m.chat_id != CITIZEN_EN
        ]
        officer_texts.append(render_staff_card(s, rt, c, tr, with_thread=True))
        listing = render_staff_list(
            s, rt, list_for_staff(s, viewer(s, SUPERVISOR), ListFilter(status="all")), tr
        )
        officer_texts.append(listing)
        exported = export_rows(s, rt, date(2026, 11, 1), date(2026, 11, 30))
        officer_texts += [str(row) for row in exported]
        assert len(officer_texts) > 6
        for text in officer_texts:
            assert secret_name not in text
            assert str(CITIZEN_EN) not in text
        assert "Anonymous" in listing and "Siti Rahayu" in listing
        by_ticket = {row["ticket"]: row for row in exported}
        assert by_ticket[c.ticket]["complainant"] == ""
        assert by_ticket[named.ticket]["complainant"] == "Siti Rahayu"
        assert str(CITIZEN_ID) not in str(exported)


def test_time_limits_are_working_days(rt, db):
    with db.session() as s:
        normal = file(rt, s)
        levy = file(rt, s, category="illegal_levy")
    # Friday 20 Nov 2026: +3 -> Wed 25, +5 -> Fri 27 Nov, +14 -> Thu 10 Dec (end of day, WIB).
    assert normal.verify_due == wib(2026, 11, 25)
    assert normal.response_due == wib(2026, 11, 27)
    assert normal.resolve_due == wib(2026, 12, 10)
    assert normal.priority == PRIORITY_NORMAL
    assert levy.priority == PRIORITY_HIGHEST
    # Illegal fees get the shortest limit, counted from the hour it was filed (Friday 10:00):
    # a supervisor calls back by Monday 10:00, resolved by Tuesday 10:00.
    assert levy.verify_due == levy.response_due == wib(2026, 11, 23, 10, 0, 0)
    assert levy.resolve_due == wib(2026, 11, 24, 10, 0, 0)
    with db.session() as s:
        # Filed on Wednesday 23 Dec: 24 joint leave, 25 Christmas, 26-27 weekend -> 28, 29, 30.
        holiday = file(rt, s, now=wib(2026, 12, 23, 9, 0, 0))
    assert holiday.verify_due == wib(2026, 12, 30)


def test_illegal_levy_goes_to_supervisors_at_once(rt, db):
    with db.session() as s:
        c = file(rt, s, category="illegal_levy", evidence=[Evidence("photo", "P1")])
    with db.session() as s:
        sup = outbox(s, SUPERVISOR)
        assert [m.method for m in sup] == ["sendMessage", "sendPhoto"]
        assert c.ticket in sup[0].payload["text"]
        assert sup[0].dedupe_key == f"cmp:{c.id}:urgent:{SUPERVISOR}:0"
        assert outbox(s, OFFICER_A) == []


def test_escalation_once_per_missed_deadline(rt, db):
    with db.session() as s:
        c = file(rt, s)
        cid = c.id
    with db.session() as s:
        assert escalate_overdue(s, rt, now=wib(2026, 11, 25)) == 0
        # Thursday morning: verification is overdue; nobody holds the ticket yet.
        later = wib(2026, 11, 26, 8, 0, 0)
        assert escalate_overdue(s, rt, now=later) == 1
        assert escalate_overdue(s, rt, now=later + timedelta(hours=3)) == 0
        (notice,) = texts(s, SUPERVISOR)
        assert "Overdue complaint" in notice and "verification" in notice
    with db.session() as s:
        c = get_complaint(s, cid)
        assign(
            s,
            rt,
            c,
            actor=viewer(s, SUPERVISOR),
            assignee_id=OFFICER_A,
            now=wib(2026, 11, 26, 9, 0, 0),
        )
    with db.session() as s:
        # The following Monday the first response (due Friday) is missing.
        monday = wib(2026, 11, 30, 9, 0, 0)
        assert escalate_overdue(s, rt, now=monday) == 2
        assert escalate_overdue(s, rt, now=monday) == 0
        reminder = texts(s, OFFICER_A)[-1]
        assert "Pengingat" in reminder and "respons pertama" in reminder  # officer reads id
        assert "first response" in texts(s, SUPERVISOR)[-1]
        # Late on every count after the resolve deadline too.
        assert escalate_overdue(s, rt, now=wib(2026, 12, 11, 9, 0, 0)) == 2
        overdue = list_for_staff(
            s, viewer(s, OFFICER_A), ListFilter(overdue=True), now=wib(2026, 12, 11)
        )
        assert [x.id for x in overdue] == [cid]


def test_escalation_without_supervisors_goes_to_the_group(rt, db):
    with db.session() as s:
        s.delete(s.get(Staff, SUPERVISOR))
    with db.session() as s:
        file(rt, s)
    with db.session() as s:
        assert escalate_overdue(s, rt, now=wib(2026, 11, 26, 8, 0, 0)) == 1
        assert "Pengaduan terlambat" in texts(s, GROUP)[-1]


def test_silence_closes_after_ten_working_days(rt, db):
    with db.session() as s:
        c = file(rt, s)
        resolve(
            s,
            rt,
            c,
            actor=viewer(s, OFFICER_A),
            answer="Answered.",
            now=wib(2026, 11, 23, 10, 0, 0),
        )
        cid = c.id
    # Monday 23 Nov + 10 working days = Monday 7 Dec, end of day.
    with db.session() as s:
        assert close_silent(s, rt, now=wib(2026, 12, 7, 20, 0, 0)) == 0
        assert close_silent(s, rt, now=wib(2026, 12, 8, 0, 1, 0)) == 1
        assert close_silent(s, rt, now=wib(2026, 12, 9)) == 0
        c = get_complaint(s, cid)
        assert c.status == CLOSED
        assert "no answer from you within 10 working days" in texts(s, CITIZEN_EN)[-1]


def test_daily_limit_per_citizen(rt, db):
    with db.session() as s:
        for _ in range(5):
            file(rt, s)
        with pytest.raises(LimitReached) as err:
            file(rt, s)
        assert err.value.detail["limit"] == 5
        file(rt, s, complainant_id=CITIZEN_ID)
        # The next office day starts at midnight WIB.
        file(rt, s, now=wib(2026, 11, 21, 0, 0, 1))
        assert filed_today(s, rt, CITIZEN_EN, FILED) == 5


def test_input_checks():
    with pytest.raises(InvalidInput) as short:
        clean_description("  too short  ")
    assert short.value.code == "too_short"
    with pytest.raises(InvalidInput) as one_word:
        clean_description("pungli!!!!!!")  # long enough, but one word says too little
    assert one_word.value.code == "too_short"
    assert clean_description(" dimintai uang ") == "dimintai uang"
    with pytest.raises(InvalidInput) as long:
        clean_description("x" * 3001)
    assert long.value.code == "too_long"
    assert clean_description(" antre lama\n") == "antre lama"
    today = date(2026, 11, 20)
    assert parse_occurred_on("17/11/2026", today) == date(2026, 11, 17)
    assert parse_occurred_on("2026-11-17", today) == date(2026, 11, 17)
    assert parse_occurred_on("17-11-26", today) == date(2026, 11, 17)
    assert parse_occurred_on("Kemarin", today) == date(2026, 11, 19)
    for bad, code in (
        ("31/02/2026", "bad_date"),
        ("soon", "bad_date"),
        ("21/11/2026", "future_date"),
    ):
        with pytest.raises(InvalidInput) as err:
            parse_occurred_on(bad, today)
        assert err.value.code == code
    assert normalize_ticket("adu 7k3m9q") == "ADU-7K3M9Q"
    assert normalize_ticket("7K3M9Q") == "ADU-7K3M9Q"
    assert normalize_ticket("ADU-7K3M9O") is None  # O is never in a ticket
    with pytest.raises(InvalidInput):
        check_location(91, 0)


def test_report_counts_medians_and_shares(rt, db):
    with db.session() as s:
        sup = viewer(s, SUPERVISOR)
        quick = file(rt, s)
        reply(s, rt, quick, actor=sup, body="Seen.", now=FILED + timedelta(hours=2))
        resolve(s, rt, quick, actor=sup, answer="Done.", now=FILED + timedelta(hours=4))
        slow = file(rt, s, category="facilities", privacy=CONFIDENTIAL)
        resolve(s, rt, slow, actor=sup, answer="Done late.", now=wib(2026, 12, 15, 9, 0, 0))
        waiting = file(rt, s, category="facilities")
        rejected = file(rt, s, category="other")
        reject(s, rt, rejected, actor=sup, reason="Spam")
        file(rt, s, now=wib(2026, 10, 1, 9, 0, 0))  # outside the period
        assert waiting.status == RECEIVED
    with db.session() as s:
        report = complaint_report(
            s, rt, date(2026, 11, 1), date(2026, 11, 30), now=wib(2026, 12, 20, 9, 0, 0)
        )
        assert report.total == 4
        assert report.by_category == {"slow_service": 1, "facilities": 2, "other": 1}
        assert report.by_status == {"resolved": 2, "received": 1, "rejected": 1}
        # First responses: 2 hours (quick) and the late resolution (slow); waiting has none.
        slow_delta = wib(2026, 12, 15, 9, 0, 0) - FILED
        assert report.median_first_response == (timedelta(hours=2) + slow_delta) / 2
        assert report.median_resolution == (timedelta(hours=4) + slow_delta) / 2
        # Response: quick on time, slow late, waiting past due -> 1 of 3.
        assert (report.responded_on_time, report.response_counted) == (1, 3)
        assert (report.resolved_on_time, report.resolution_counted) == (1, 3)
        public = complaint_report(
            s,
            rt,
            date(2026, 11, 1),
            date(2026, 11, 30),
            public=True,
            now=wib(2026, 12, 20, 9, 0, 0),
        )
        assert public.total == 3 and public.by_category["facilities"] == 1
        text = render_report(rt, report, Translator("en"))
        assert "Received: 4" in text and "33% (1/3)" in text


def test_cli_export_and_report_keep_anonymity(rt, db, monkeypatch, capsys):
    with db.session() as s:
        file(rt, s, privacy=ANONYMOUS, complainant_name="Budi Santoso")
        file(rt, s, complainant_id=CITIZEN_ID, privacy=CONFIDENTIAL)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert cli_main(["complaints", "export", "2026-11-01", "2026-11-30"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["privacy"], r["complainant"]) for r in rows] == [
        ("anonymous", ""),
        ("confidential", "Siti Rahayu"),
    ]
    assert cli_main(["complaints", "export", "2026-11-01", "2026-11-30", "--public"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 1
    assert cli_main(["complaints", "report", "2026-11-01", "2026-11-30", "--lang", "en"]) == 0
    report = capsys.readouterr().out
    assert "Received: 2" in report and "<b>" not in report


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"COMPLAINTS_CHAT_ID": "officers"}, "COMPLAINTS_CHAT_ID:"),
        ({"COMPLAINTS_PER_DAY": "0"}, "COMPLAINTS_PER_DAY:"),
        ({"COMPLAINT_RESPONSE_DAYS": "2"}, "COMPLAINT_RESPONSE_DAYS: must not be less than"),
        ({"COMPLAINT_RESOLVE_DAYS": "4"}, "COMPLAINT_RESOLVE_DAYS: must not be less than"),
    ],
)
def test_bad_complaint_settings_name_the_variable(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(message)


def test_complaint_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_CHAT_ID", "-1001234567890")
    monkeypatch.setenv("COMPLAINT_LEVY_CATEGORIES", "pungli, suap")
    settings = load_settings()
    assert settings.complaints_chat_id == -1001234567890
    assert settings.complaint_levy_categories == ["pungli", "suap"]
    monkeypatch.setenv("COMPLAINTS_CHAT_ID", "")
    assert load_settings().complaints_chat_id is None


def test_categories_come_from_the_knowledge_base(db):
    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    rt = Runtime(
        settings=load_settings(),
        db=db,
        knowledge=kb,
        calendar=WorkingCalendar(JAKARTA),
    )
    cats = {c.key: c for c in categories(rt)}
    assert list(cats) == [c.id for c in kb.office.complaint_categories]
    levy, normal = cats["biaya"], cats["pelayanan"]
    assert (levy.priority, levy.urgent, levy.tier) == (PRIORITY_HIGHEST, True, "urgent")
    assert (normal.priority, normal.urgent, normal.tier) == (PRIORITY_NORMAL, False, "standard")
    assert cats["keamanan"].urgent  # safety: the shortest limit too
    assert levy.title(Translator("en")) == "Fees or illegal levies"
    assert levy.title(Translator("id")) == "Biaya atau pungutan liar"
    assert time_limits(rt, levy).resolve_days == 2
    assert time_limits(rt, normal).resolve_days == 14
    with db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    with db.session() as s:
        c = file(rt, s, category="biaya", service_id="ktp-el")
        with pytest.raises(InvalidInput):
            file(rt, s, category="slow_service")  # a default category the office replaced
        card = render_staff_card(s, rt, c, Translator("id"))
        assert "KTP Elektronik (KTP-el)" in card and "Biaya atau pungutan liar" in card
        assert len(outbox(s, SUPERVISOR)) == 1


def test_staff_units_are_set_by_admins(rt, db):
    with db.session() as s:
        staff = set_staff_unit(s, telegram_id=OFFICER_B, unit="  Dukcapil ", actor_id=1)
        assert staff.unit == "Dukcapil"
        with pytest.raises(InvalidInput) as err:
            set_staff_unit(s, telegram_id=CITIZEN_EN, unit="Dukcapil", actor_id=1)
        assert err.value.code == "unknown_officer"
        with pytest.raises(InvalidInput):
            set_staff_unit(s, telegram_id=OFFICER_B, unit="x" * 81, actor_id=1)
    with db.session() as s:
        c = file(rt, s)
        assign(s, rt, c, actor=viewer(s, SUPERVISOR), unit="Dukcapil")
        # Officer B moved into Dukcapil now handles its tickets; moved out, no longer.
        assert can_handle(viewer(s, OFFICER_B), c)
        set_staff_unit(s, telegram_id=OFFICER_B, unit=None, actor_id=1)
        assert not can_handle(viewer(s, OFFICER_B), c)
        assert units(s) == ["Dukcapil"]


def test_no_notice_is_queued_for_a_complainant_who_erased_their_data(rt, db):
    from bot.complaints.privacy import erase_complaints

    with db.session() as s:
        cid = file(rt, s).id
    with db.session() as s:
        erase_complaints(s, CITIZEN_EN)
        before = len(outbox(s, CITIZEN_EN))
    with db.session() as s:
        c = get_complaint(s, cid, for_update=True)
        take(s, rt, c, actor=viewer(s, OFFICER_A), now=FILED + timedelta(hours=1))
        reply(
            s, rt, c, actor=viewer(s, OFFICER_A), body="Checked.", now=FILED + timedelta(hours=2)
        )
        resolve(
            s, rt, c, actor=viewer(s, OFFICER_A), answer="Fixed.", now=FILED + timedelta(hours=3)
        )
        assert c.status == RESOLVED  # the office's handling goes on
    with db.session() as s:
        assert outbox(s, 0) == []
        assert len(outbox(s, CITIZEN_EN)) == before
