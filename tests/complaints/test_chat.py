"""End to end: complaints filed in the chat, handled by officers in the group, to closure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.complaints.access import viewer_for
from bot.complaints.filing import file_complaint, get_complaint
from bot.complaints.handling import resolve, take
from bot.complaints.lists import ListFilter
from bot.complaints.models import Complaint
from bot.complaints.sla import close_silent, escalate_overdue
from bot.core.db import Database
from bot.core.i18n import Translator
from bot.core.models import Staff, utcnow
from bot.people.conversations import get_state

GROUP = -100777
CITIZEN, OTHER, OFFICER, OFFICER_B, SUPERVISOR, ADMIN = 1001, 1002, 2001, 2002, 3001, 9001
STORY = "Petugas loket 3 meminta uang Rp50.000 <tanpa kuitansi> agar KTP cepat jadi."


@pytest.fixture
async def desk(tmp_path, make_bot) -> Any:  # noqa: ANN001
    """The bot on SQLite with the officers' group as its complaints desk."""
    url = f"sqlite:///{tmp_path}/desk.db"
    Database(url).upgrade()
    return await make_bot(url, complaints_chat_id=GROUP, admin_ids=[ADMIN])


def _staff(bot) -> None:
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=OFFICER_B, role="officer", unit="Perizinan"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))


def _complaint(bot, **where) -> Complaint:
    with bot.rt.db.session() as s:
        query = select(Complaint).order_by(Complaint.id.desc())
        for key, value in where.items():
            query = query.where(getattr(Complaint, key) == value)
        return s.exec(query).first()


async def _two(user, first: str, second: str) -> tuple[Any, Any]:
    """The next two messages, which hold ``first`` and ``second`` in whichever order."""
    messages = await user.replies(2, timeout=8)
    by_text = {
        needle: [m for m in messages if needle in (m.text or "")] for needle in (first, second)
    }
    assert all(len(found) == 1 for found in by_text.values()), [m.text for m in messages]
    return by_text[first][0], by_text[second][0]


async def _post_shows(group, post, needle: str, timeout: float = 8.0) -> Any:
    """The group post as edited once it shows ``needle`` (older edits may be skipped: the
    outbox sends only the newest state of a post)."""
    while True:
        message = await group.reply(timeout=timeout)
        if message.edited and message.message_id == post.message_id and needle in message.text:
            return message


def _current(group, post) -> Any:
    """The post as it reads in the group now."""
    return next(m for m in group.messages() if m.message_id == post.message_id)


async def _group_says(group, needle: str, timeout: float = 8.0) -> Any:
    """The next new message in the group (not an edit of a post) holding ``needle``."""
    while True:
        message = await group.reply(timeout=timeout)
        if not message.edited and needle in (message.html or message.text or ""):
            return message


async def _hello(user) -> None:
    """A user writes to the bot first (Telegram's rule before the bot may write to them)."""
    await user.send("/start")
    await user.reply()


async def _file(user, *, privacy: str, evidence: bool = False, location: bool = False) -> str:
    """Walk the whole filing flow; returns the receipt's text."""
    await user.send("/pengaduan")
    assert "Apa yang ingin Anda adukan?" in (await user.reply()).text
    # The sample knowledge base's categories; "biaya" (fees or illegal levies) is a levy one.
    await user.click("Biaya atau pungutan liar")
    assert "Apa yang terjadi?" in (await user.reply()).text
    await user.send("pungli")
    refused = await user.reply()
    assert "paling sedikit 2 kata" in refused.text
    # The story names the KTP: the service is not asked.
    await user.send(STORY)
    when = await user.reply()
    assert "Kapan kejadiannya?" in when.text
    assert when.labels == ["Hari ini", "Kemarin", "📅 Hari lain", "⏭ Lewati"]
    await user.send("besok lusa")
    assert "tidak dapat saya baca" in (await user.reply()).text
    await user.click("Kemarin")
    where = await user.reply()
    assert "Di mana kejadiannya?" in where.text
    assert where.keyboard == ["📍 Kirim lokasi saya", "⏭ Lewati"]
    assert where.reply_markup["keyboard"][0][0]["request_location"] is True
    if location:
        await user.send_location(-6.2, 106.8)
    else:
        await user.send("loket 3, lantai 1")
    noted, ask_evidence = await user.replies(2)
    assert "dicatat" in noted.text and noted.reply_markup == {"remove_keyboard": True}
    assert "Selesai" in ask_evidence.labels[0]
    if evidence:
        await user.send_photo()
        assert "1 berkas sudah diterima" in (await user.reply()).text
    await user.click("cf:ev:done")
    privacy_question = await user.reply()
    assert "Tidak ada petugas yang melihat nama" in privacy_question.text
    await user.click(f"cf:priv:{privacy}")
    summary = await user.reply()
    assert "<tanpa kuitansi>" in summary.text and "&lt;tanpa kuitansi&gt;" in summary.html
    assert "Layanan: KTP Elektronik (KTP-el)" in summary.text
    await user.click("📨 Kirim pengaduan")
    receipt = await user.reply()
    assert "Pengaduan Anda sudah kami terima" in receipt.text
    return receipt.text


async def test_named_complaint_from_filing_to_closure(make_bot, database_url):
    bot = await make_bot(database_url, complaints_chat_id=GROUP)
    _staff(bot)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, first_name="Sari", language_code="id")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="en")
    for user in (officer, supervisor):
        await _hello(user)

    receipt = await _file(citizen, privacy="named", evidence=True, location=True)
    c = _complaint(bot)
    assert c.ticket in receipt and c.privacy == "named" and c.complainant_name == "Sari"
    # An illegal fee: what happens now, not a date weeks away.
    call_back = Translator("id").datetime(c.response_due, bot.rt.tz)
    assert "Yang terjadi sekarang" in receipt
    assert (
        "Pengawas sudah diberi tahu dan akan menghubungi Anda dalam 1 hari kerja, paling "
        f"lambat {call_back}." in receipt
    )
    assert (c.resolve_due - c.received_at).days <= 4  # two working days (a weekend between)

    sent = {m.method: m for m in await group.replies(3, timeout=8)}
    post, location, photo = sent["sendMessage"], sent["sendLocation"], sent["sendPhoto"]
    assert c.ticket in post.text and "Sari" in post.text
    assert post.text.startswith(f"🚨 Pengaduan mendesak {c.ticket}: pengawas harus menghubungi")
    assert "Tempat" not in post.text and "Lokasi: -6.2, 106.8" in post.text
    assert location.raw["location"] == {"latitude": -6.2, "longitude": 106.8}
    assert photo.photo and photo.text == f"Bukti untuk {c.ticket}"
    # Illegal levy: the supervisor hears at once, in English, with the time to call back.
    urgent = await supervisor.reply(timeout=8)
    assert f"Urgent complaint {c.ticket}: please contact the complainant by" in urgent.text

    await officer.click("🙋 Ambil", post)
    assert "sekarang Anda tangani" in (await officer.callback_answer())["text"]
    assert "sekarang ditangani oleh Dukcapil" in (await citizen.reply(timeout=8)).text
    # The group post follows the ticket, edited through the outbox, staff by name.
    taken = await _post_shows(group, post, "🙋 Ditangani Dukcapil · Budi")
    assert taken.labels == post.labels and "Diterima" not in taken.text.splitlines()[1]

    await officer.click("💬 Balas", post)
    prompt = await officer.reply()
    assert "Tulis balasan untuk" in prompt.text and STORY in prompt.text
    await officer.send("Kami sedang memeriksa petugas loket 3.")
    assert "Balasan sudah dikirim" in (await officer.reply()).text
    answer = await citizen.reply(timeout=8)
    assert "Kami sedang memeriksa petugas loket 3." in answer.text
    await _post_shows(group, post, "💬 Dibalas oleh Budi")

    # The complainant answers back within the ticket; the officer sees it.
    await citizen.click("✍️ Tambah keterangan", answer)
    await citizen.reply()
    await citizen.send("Kejadiannya sekitar pukul 10 pagi.")
    assert "sudah ditambahkan" in (await citizen.reply()).text
    addition = await officer.reply(timeout=8)
    assert "Kejadiannya sekitar pukul 10 pagi." in addition.text and "Sari" not in addition.text

    await officer.click("✅ Selesaikan", addition)
    await officer.reply()
    await officer.send("Petugas sudah ditegur dan uang dikembalikan.")
    assert "sudah dijawab" in (await officer.reply()).text
    resolved = await citizen.reply(timeout=8)
    assert "Petugas sudah ditegur" in resolved.text
    answered = await _post_shows(group, post, "✅ Diselesaikan oleh Budi")
    assert answered.labels == ["💬 Balas"]
    await citizen.click("👍 Ya, sudah selesai", resolved)
    # The direct answer (the rating question) and the queued notice may come in either order.
    question, closed = await _two(citizen, "Bagaimana penilaian Anda", "sudah ditutup")
    await citizen.click(f"cc:rate:{c.id}:5", question)
    assert "Terima kasih atas penilaian" in (await citizen.reply()).text
    c = _complaint(bot)
    assert (c.status, c.solved, c.rating) == ("closed", True, 5)
    final = await _post_shows(group, post, "⭐ Penilaian: ⭐⭐⭐⭐⭐ (5/5)")
    assert "🔒 Ditutup: selesai, dikonfirmasi pelapor" in final.text and final.labels == []
    assert final.text.startswith(f"📣 Pengaduan {c.ticket}")
    # Still one post in the group for the ticket: edited, never sent again.
    assert [m.message_id for m in group.messages() if c.ticket in (m.text or "")][:1] == [
        post.message_id
    ]

    await citizen.send(f"/tiket {c.ticket.lower()}")
    card = await citizen.reply()
    assert "Ditutup" in card.text and "Kejadiannya sekitar pukul 10 pagi." in card.text


async def test_anonymous_complaint_reopened_rated_low_then_closed_by_silence(
    make_bot, database_url
):
    bot = await make_bot(database_url, complaints_chat_id=GROUP)
    _staff(bot)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, first_name="Rahasia", language_code="en")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="en")
    for user in (officer, supervisor):
        await _hello(user)
    await citizen.send("/complaint")
    await citizen.reply()
    await citizen.click("cf:cat:fasilitas")
    assert "What happened?" in (await citizen.reply()).text
    await citizen.send("The ramp for wheelchairs at the main door has been broken for weeks.")
    assert "Which service" in (await citizen.reply()).text  # the story names none
    await citizen.click("cf:svc:none")
    assert "When did it happen?" in (await citizen.reply()).text
    await citizen.send("yesterday afternoon")
    where = await citizen.reply()
    assert where.keyboard == ["📍 Share my location", "⏭ Skip"]
    await citizen.send("main entrance, ground floor")
    noted, _evidence = await citizen.replies(2)
    assert noted.text == "📍 Place noted: main entrance, ground floor"
    await citizen.click("✔️ Done")
    await citizen.reply()
    await citizen.click("Anonymous")
    summary = await citizen.reply()
    assert "Place: main entrance, ground floor" in summary.text and "Happened on:" in summary.text
    await citizen.click("cf:ok")
    receipt = await citizen.reply()
    assert "Your name is not shown to any officer." in receipt.text
    assert "What happens next" in receipt.text  # not an urgent category
    c = _complaint(bot)
    assert c.complainant_name is None and c.place == "main entrance, ground floor"
    assert c.occurred_on == (c.received_at.astimezone(bot.rt.tz) - timedelta(days=1)).date()

    post = await group.reply(timeout=8)
    assert "Anonim" in post.text and "Tempat: main entrance, ground floor" in post.text
    assert "Rahasia" not in post.text and str(CITIZEN) not in post.text
    assert str(CITIZEN) not in str(post.reply_markup)

    await officer.click("✅ Selesaikan", post)
    await officer.reply()
    await officer.send("The ramp was repaired today.")
    await officer.reply()
    resolved = await citizen.reply(timeout=8)
    await citizen.click("👎 No, not solved", resolved)
    # One answer in the chat: open again, and what is still wrong?
    asked = await citizen.reply()
    assert "is open again" in asked.text and "What is still not solved?" in asked.text
    assert "Expected to be resolved by" in asked.text
    told = await officer.reply(timeout=8)
    assert "belum selesai" in told.text and "Rahasia" not in told.text
    alert = await _group_says(group, "<b>belum selesai</b>")
    assert c.ticket in alert.text and "Budi" in alert.text
    # The post was edited in the same transaction, so before the alert (one chat, in order).
    assert "🔁 Dibuka kembali 1 kali" in _current(group, post).text

    await citizen.send("The ramp still wobbles when a wheelchair goes up.")
    thanks = await citizen.reply()
    assert f"The officer handling {c.ticket} will read it." in thanks.text
    assert thanks.labels == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]
    why = await officer.reply(timeout=8)
    assert "Masih belum selesai" in why.text and "still wobbles" in why.text
    assert "still wobbles" in (await _group_says(group, "Masih belum selesai")).text
    await citizen.click(f"cc:rate:{c.id}:1", thanks)
    assert "Thank you for your rating." in (await citizen.reply()).text
    # One star: the supervisor over the ticket's unit is shown it.
    low = await supervisor.reply(timeout=8)
    assert f"Low rating for complaint {c.ticket}: 1 of 5 stars." in low.text
    assert "not solved" in low.text and low.labels == ["🎫 View ticket"]
    await _post_shows(group, post, "⭐ Penilaian: ⭐ (1/5)")

    await officer.send("/complaints mine")
    listing = await officer.reply()
    assert c.ticket in listing.text and "Anonim" in listing.text and "👤 Budi" in listing.text

    await officer.send(f"/reply {c.ticket}")
    await officer.reply()
    await officer.send("We will check again tomorrow.")
    await officer.reply()
    await citizen.reply(timeout=8)
    with bot.rt.db.session() as s:
        complaint = get_complaint(s, c.id)
        resolve(s, bot.rt, complaint, actor=viewer_for(s, OFFICER), answer="Fixed again.")
    await citizen.reply(timeout=8)
    # Ten working days of silence (the clock moved, not waited for) close it.
    with bot.rt.db.session() as s:
        assert close_silent(s, bot.rt, now=utcnow() + timedelta(days=20)) == 1
    assert "no answer from you within 10 working days" in (await citizen.reply(timeout=8)).text
    await _post_shows(group, post, "🔒 Ditutup: tidak ada jawaban dari pelapor")


async def test_overdue_ticket_escalates_once(bot_sqlite):
    bot = bot_sqlite
    _staff(bot)
    citizen = bot.user(CITIZEN, language_code="id")
    supervisor = bot.user(SUPERVISOR, language_code="en")
    officer = bot.user(OFFICER, language_code="id")
    for user in (supervisor, officer):
        await _hello(user)
    with bot.rt.db.session() as s:
        c = file_complaint(
            s,
            bot.rt,
            complainant_id=CITIZEN,
            complainant_name="Sari",
            category="pelayanan",
            description=STORY,
            privacy="named",
        )
        take(s, bot.rt, c, actor=viewer_for(s, OFFICER))
    await citizen.send("/start")
    later = utcnow() + timedelta(days=30)
    await bot.settle()
    from handlers.complaints.reports import escalation_job

    with bot.rt.db.session() as s:
        assert escalate_overdue(s, bot.rt, now=later) == 4
    await escalation_job(bot.context())  # the job at today's time: nothing is late yet
    reminders = await officer.replies(2, timeout=8)
    assert all("Pengingat" in r.text for r in reminders)
    notices = await supervisor.replies(2, timeout=8)
    headlines = sorted(n.text.splitlines()[0] for n in notices)
    assert "the first response was due" in headlines[0]
    assert "the resolution was due" in headlines[1]
    with bot.rt.db.session() as s:
        assert escalate_overdue(s, bot.rt, now=later + timedelta(hours=1)) == 0
    await officer.expect_silence(1.2)


async def test_filing_survives_a_restart(make_bot, database_url):
    first = await make_bot(database_url)
    citizen = first.user(CITIZEN, language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    await citizen.click("📣 Pengaduan")  # the main menu's button
    assert "Apa yang ingin Anda adukan?" in (await citizen.reply()).text
    await citizen.click("cf:cat:petugas")
    assert "Apa yang terjadi?" in (await citizen.reply()).text
    await first.stop()

    second = await make_bot(database_url, emulator=first.emulator)
    citizen = second.user(CITIZEN)
    await citizen.send(STORY)  # it names the KTP: the service is not asked
    assert "Kapan kejadiannya?" in (await citizen.reply()).text
    # A button from before the restart of a step already passed is stale: refused.
    await citizen.forge_click("cf:cat:lainnya")
    answer = await citizen.callback_answer()
    assert answer["show_alert"] and "tidak berlaku" in answer["text"]
    await citizen.expect_silence()
    with second.rt.db.session() as s:
        assert s.exec(select(Complaint)).first() is None  # nothing filed before confirming


async def test_strangers_are_refused(desk):
    bot = desk
    _staff(bot)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, language_code="id")
    other = bot.user(OTHER, language_code="id")
    stranger_officer = bot.user(OFFICER_B, language_code="id")
    officer = bot.user(OFFICER, language_code="id")
    await _hello(officer)
    await _file(citizen, privacy="confidential")
    c = _complaint(bot)
    post = await group.reply(timeout=8)

    # Another citizen: the ticket number says nothing, the buttons do nothing.
    await other.send(f"/tiket {c.ticket}")
    assert f"Tiket {c.ticket} tidak ada di antara pengaduan Anda" in (await other.reply()).text
    # Ids out of the database's range are refused as buttons, before any query.
    too_big = "99999999999999999999"
    for data in (
        f"cc:view:{c.id}", f"cc:fb:{c.id}:y", f"cx:take:{c.id}",
        f"cc:view:{too_big}", f"cx:take:{too_big}",
    ):
        await other.forge_click(data, post if data.startswith("cx") else None)
        answer = await other.callback_answer()
        assert answer["show_alert"] and "tidak berlaku" in answer["text"]
    # A citizen pressing the group's buttons (had they seen them) is not an officer.
    await other.click("🙋 Ambil", post)
    assert "tidak berlaku" in (await other.callback_answer())["text"]
    await other.send("/complaints")
    assert "/help" in (await other.reply()).text  # the unknown-command answer

    await officer.click("🙋 Ambil", post)
    await officer.callback_answer()
    # An officer of another unit cannot take it over.
    await stranger_officer.click("🙋 Ambil", post)
    assert "milik unit lain" in (await stranger_officer.callback_answer())["text"]
    await bot.settle()
    c = _complaint(bot)
    assert (c.status, c.assignee_id) == ("assigned", OFFICER)


async def test_supervisor_assigns_to_a_unit_and_reports(desk):
    bot = desk
    _staff(bot)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, language_code="id")
    supervisor = bot.user(SUPERVISOR, language_code="en")
    officer = bot.user(OFFICER, language_code="id")
    for user in (citizen, supervisor, officer):
        await _hello(user)
    with bot.rt.db.session() as s:
        file_complaint(
            s,
            bot.rt,
            complainant_id=CITIZEN,
            complainant_name="Sari",
            category="lainnya",
            description=STORY,
            privacy="named",
        )
    post = await group.reply(timeout=8)
    await supervisor.click("📌 Disposisi", post)
    await supervisor.callback_answer()
    menu = await group.reply()
    assert menu.labels[:2] == ["🏢 Dukcapil", "🏢 Perizinan"]
    await supervisor.click("🏢 Perizinan", menu)
    assert "Perizinan" in (await supervisor.callback_answer())["text"]
    assert "sekarang ditangani oleh Perizinan" in (await citizen.reply(timeout=8)).text
    # Now it belongs to Perizinan: an officer of Dukcapil cannot take it.
    await officer.click("🙋 Ambil", post)
    assert "milik unit lain" in (await officer.callback_answer())["text"]
    # Perizinan's officer never opened a private chat with the bot: told to, nothing kept.
    newcomer = bot.user(OFFICER_B, language_code="id")
    await newcomer.click("💬 Balas", post)
    assert "buka obrolan pribadi" in (await newcomer.callback_answer())["text"]
    with bot.rt.db.session() as s:
        assert get_state(s, chat_id=OFFICER_B, user_id=OFFICER_B) is None

    await supervisor.send("/report")
    await supervisor.reply()
    await supervisor.click("This month")
    report = await supervisor.reply()
    assert "Received: 1" in report.text and "Other: 1" in report.text
    await officer.send("/laporan")
    assert "/help" in (await officer.reply()).text  # officers get no report


def test_list_filters_and_report_periods(sqlite_db):
    from datetime import date

    from bot.core.config import PROJECT_ROOT, load_settings
    from bot.core.runtime import Runtime
    from bot.qa.loader import load_knowledge
    from handlers.complaints.reports import parse_list_filter, report_period

    rt = Runtime(
        settings=load_settings(), db=sqlite_db, knowledge=load_knowledge(PROJECT_ROOT / "knowledge")
    )
    assert parse_list_filter(rt, ["terlambat", "saya", "biaya"]) == ListFilter(
        category="biaya", overdue=True, mine=True
    )
    assert parse_list_filter(rt, ["all"]) == ListFilter(status="all")
    assert parse_list_filter(rt, ["resolved"]) == ListFilter(status="resolved")
    assert parse_list_filter(rt, ["nonsense"]) is None
    today = date(2026, 3, 15)
    assert report_period("month", today) == (date(2026, 3, 1), today)
    assert report_period("prev", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert report_period("30", today) == (date(2026, 2, 14), today)
    assert report_period("year", today) == (date(2026, 1, 1), today)
    assert report_period("forever", today) is None


async def test_admin_puts_officers_in_units(desk):
    bot = desk
    _staff(bot)
    admin = bot.user(ADMIN, language_code="en")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    await admin.send("/unit 2002 Dinas Kependudukan & Pencatatan Sipil")
    # Nobody knows 2002's name yet (they never acted): shown by id.
    assert (await admin.reply()).text == (
        "officer 2002 now handles the complaints of Dinas Kependudukan & Pencatatan Sipil."
    )
    await officer.send("/complaints")  # acting once is enough for the name to be known
    await officer.reply()
    await admin.send("/unit 2001 -")
    assert (await admin.reply()).text == "Budi has no unit now."
    await admin.send("/unit 1001 Dukcapil")
    assert "no staff role" in (await admin.reply()).text
    await officer.send("/unit 2001 Dukcapil")
    assert "/help" in (await officer.reply()).text  # admins only
    with bot.rt.db.session() as s:
        assert s.get(Staff, OFFICER_B).unit == "Dinas Kependudukan & Pencatatan Sipil"
        assert s.get(Staff, OFFICER).unit is None


async def test_cancelling_at_the_place_step_takes_its_keyboard_away(make_bot, database_url):
    bot = await make_bot(database_url)
    citizen = bot.user(CITIZEN, language_code="id")
    await citizen.send("/pengaduan")
    await citizen.reply()
    await citizen.click("cf:cat:petugas")
    await citizen.reply()
    await citizen.send(STORY)
    await citizen.reply()
    await citizen.send("kemarin")
    where = await citizen.reply()
    assert where.keyboard[0].startswith("📍")  # the share-location keyboard is on screen
    await citizen.send("/batal")
    cancelled, menu = await citizen.replies(2)
    assert cancelled.text == "Dibatalkan. Tidak ada yang disimpan."
    assert cancelled.reply_markup == {"remove_keyboard": True}
    assert "📣 Pengaduan" in menu.labels
    with bot.rt.db.session() as s:
        assert s.exec(select(Complaint)).first() is None
    # Cancelling with no keyboard on screen stays one message, with the menu.
    await citizen.send("/batal")
    again = await citizen.reply()
    assert again.text == "Dibatalkan. Tidak ada yang disimpan." and "📣 Pengaduan" in again.labels
    await citizen.expect_silence()
