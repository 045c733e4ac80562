"""On the day, through the emulator: check-in by live location and by code at the counter,
the officer's /loket, /panggil, /lewati, /selesai and /walkin, what the citizen is told through
the outbox (their number, "3 orang lagi sebelum Anda", "Silakan ke Loket 3"), the skip after
the grace time with one return, and the survey invitation after the service."""

from __future__ import annotations

from sqlmodel import select

from bot.core.models import Staff
from bot.queue.aftercare import survey_key
from bot.queue.jobs import tick
from bot.queue.models import QueueBooking
from bot.queue.service import book
from bot.surveys.models import SurveyInvitation
from handlers.outbox_delivery import drain_outbox
from tests.support.queue import MONDAY, TestClock, at

OFFICER = 7001


def _book(rt, user_id: int, start: str, reason: str | None = None, language: str = "id"  # noqa: ANN001
          ) -> QueueBooking:
    with rt.db.session() as s:
        return book(s, rt, user_id=user_id, language=language, service_id="ktp-el",
                    day=MONDAY, start=start, priority_reason=reason,
                    now=at(rt, MONDAY, 6, 0))


async def deliver(bot, clock: TestClock) -> None:  # noqa: ANN001
    """Let the outbox sender send what is due, a few seconds later on the test clock (the
    sender keeps each chat to about one message a second, on that clock)."""
    for _ in range(3):
        await drain_outbox(bot.app, bot.rt, now=clock.advance(seconds=2))


async def _officer(bot):  # noqa: ANN001, ANN202
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer"))
    officer = bot.user(OFFICER, "Budi", language_code="id")
    return officer


async def test_a_morning_at_the_counter(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 7, 55))
    office = rt.knowledge.office
    people = {}
    for user_id, language in ((11, "id"), (12, "id"), (13, "en"), (14, "id"), (1001, "id")):
        people[user_id] = bot.user(user_id, language_code=language)
        await people[user_id].send("/start")
        await people[user_id].reply()
    early = [_book(rt, uid, "08:00", language=people[uid].emulator.users[uid]["language_code"])
             for uid in (11, 12, 13, 14)]
    sari = _book(rt, 1001, "09:00")
    officer = await _officer(bot)

    # The four 08:00 visitors are checked in at the counter by their codes.
    for booking in early:
        await officer.send(f"/checkin {booking.code.lower()}")
        checked = await officer.reply()
        assert checked.text.startswith("Sudah check-in: Nomor")
    await deliver(bot, clock)
    ticket = await people[13].reply()
    assert "Your queue number: 003" in ticket.text and "2 people are ahead of you" in ticket.text
    for uid in (11, 12, 14):
        assert "Nomor antrean Anda" in (await people[uid].reply()).text

    # Sari checks in with her live location at the office: four are ahead of her.
    await people[1001].send_location(office.lat + 0.0003, office.lon, live_period=900)
    own = await people[1001].reply()
    assert "Nomor antrean Anda: 005" in own.text and "4 orang di depan Anda" in own.text
    # A plain location is not a check-in; a live one far away is not either.
    await people[1001].send_location(office.lat, office.lon)
    assert "lokasi <b>terkini</b>" in (await people[1001].reply()).html
    await people[1001].send_location(office.lat + 0.05, office.lon, live_period=900)
    assert "belum berada di kantor" in (await people[1001].reply()).text

    # Calling needs a counter first.
    await officer.send("/panggil")
    assert "Sebutkan dulu loket Anda" in (await officer.reply()).text
    await officer.send("/loket 3")
    assert "loket 3" in (await officer.reply()).text
    await officer.send("/panggil")
    call = await officer.reply()
    assert call.text.startswith("📢 Memanggil Nomor 001")
    assert call.labels == ["✅ Hadir", "⏭ Lewati", "✔ Selesai"]
    await deliver(bot, clock)
    called = await people[11].reply()
    assert called.text == "📢 Nomor 001: silakan ke Loket 3."
    near = await people[1001].reply()
    assert near.text.startswith("⏳ 3 orang lagi sebelum Anda (nomor 005)")

    # Served: done, and the survey invitation is scheduled as for other transactions.
    await officer.click("✔ Selesai")
    done = await officer.reply()
    assert "selesai" in done.text
    with rt.db.session() as s:
        invitation = s.exec(select(SurveyInvitation).where(
            SurveyInvitation.transaction_key == survey_key(early[0].id))).one()
        assert invitation.user_id == 11 and invitation.origin == "queue"

    # Number 002 does not come: the officer skips; the citizen may return once.
    await officer.send("/panggil")
    await officer.reply()
    await officer.send("/lewati")
    assert "dilewati" in (await officer.reply()).text
    await deliver(bot, clock)
    first = await people[12].reply()  # called
    skipped = await people[12].reply()
    assert "Nomor 002" in first.text, [m.describe()[:60] for m in people[12].messages()]
    assert "nomor 002 dilewati" in skipped.text and skipped.labels == ["↩ Kembali ke antrean"]
    await people[12].click("↩ Kembali ke antrean")
    back = await people[12].reply()
    assert "Nomor antrean Anda: 002" in back.text and "3 orang di depan Anda" in back.text
    await people[12].forge_click(f"q:r:{early[1].id}")  # a second return is refused
    refused = await people[12].reply()
    assert "hanya dapat kembali ke antrean satu kali" in refused.text

    # Number 003 is called and never comes: after the grace time the job skips them.
    await officer.send("/panggil")
    await officer.reply()
    clock.advance(minutes=9)
    with rt.db.session() as s:
        assert tick(s, rt, clock()).skipped == 0
    clock.advance(minutes=2)
    with rt.db.session() as s:
        assert tick(s, rt, clock()).skipped == 1
    await deliver(bot, clock)
    called = await people[13].reply()
    assert called.text == "📢 Number 003: please go to Counter 3."
    late = await people[13].reply()
    assert "did not come in time" in late.text and late.labels == ["↩ Return to the queue"]

    # A walk-in gets a number in the same line, after the bookings.
    await officer.send("/walkin ktp-el")
    walk = await officer.reply()
    assert walk.text.startswith("🎫 Tanpa booking: Nomor 006")
    await officer.send("/panggil")
    assert "Nomor 004" in (await officer.reply()).text
    await officer.send("/panggil")
    assert "Nomor 005" in (await officer.reply()).text
    await officer.send("/panggil")
    assert "Nomor 002" in (await officer.reply()).text  # returned: behind the bookings
    await officer.send("/panggil")
    assert "Nomor 006" in (await officer.reply()).text and "tanpa booking" in \
        (officer.messages()[-1].text)
    await officer.send("/panggil")
    assert (await officer.reply()).text == "Tidak ada yang menunggu untuk loket Anda."
    with rt.db.session() as s:
        assert s.get(QueueBooking, sari.id).status == "called"


async def test_counter_commands_are_hidden_from_citizens(bot):
    citizen = bot.user(1001, language_code="en")
    await citizen.send("/next")
    answer = await citizen.reply()
    assert "I don't know that command" in answer.text


async def test_after_the_service_the_officer_registers_the_application(bot):
    from bot.applications.models import Application, ApplicationFollower

    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 8, 0))
    citizen = bot.user(1001, language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    booking = _book(rt, 1001, "08:00", language="en")
    officer = await _officer(bot)
    await officer.send("/loket 2")
    await officer.reply()
    await officer.send(f"/checkin {booking.code}")
    await officer.reply()
    await officer.send("/panggil")
    await officer.reply()
    await officer.click("✅ Hadir")
    arrived = await officer.reply()
    assert "sudah di loket" in arrived.text and arrived.labels == ["✔ Selesai"]
    await officer.click("✔ Selesai")
    done = await officer.reply()
    assert done.labels == ["📝 Daftarkan permohonan"]
    with rt.db.session() as s:
        assert s.exec(select(SurveyInvitation).where(
            SurveyInvitation.transaction_key == survey_key(booking.id))).one()

    await officer.click("📝 Daftarkan permohonan")
    assert "nama lengkap pemohon" in (await officer.reply()).text
    await officer.send("x")  # too short: said, and the officer may type again
    assert "2 sampai 200 karakter" in (await officer.reply()).text
    await officer.send("Sari Dewi")
    registered = await officer.reply()
    assert registered.text.startswith("Terdaftar: nomor registrasi")
    with rt.db.session() as s:
        application = s.exec(select(Application)).one()
        assert application.service_id == "ktp-el" and application.applicant_name == "Sari Dewi"
        assert s.get(ApplicationFollower, (application.id, 1001)) is not None
        # Its completion will invite the survey, as for any application: not twice.
        assert s.exec(select(SurveyInvitation)).all() == []
    await deliver(bot, clock)
    # A wait, not a sleep: on a loaded machine the background sender may hold the last row.
    ticket, called, told = await citizen.replies(3, timeout=15)
    assert called.text == "📢 Number 001: please go to Counter 2."
    assert told.text.startswith("📝 Your application for Electronic ID card (KTP-el) is "
                                "registered. Tracking number:")
    # One visit, one application: pressing the button again registers nothing.
    await officer.click("📝 Daftarkan permohonan")
    assert "sudah didaftarkan" in (await officer.callback_answer())["text"]
    await officer.expect_silence()
    assert ticket.text.startswith("🎫 Your queue number: 001")
