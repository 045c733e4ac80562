"""Booking a visit through the emulator: /antrean, days from the office calendar, slots with
seats left, the priority question, the confirmation with its QR code; /antreanku with cancel
and move. Indonesian and English, SQLite and PostgreSQL; the queue's clock is set, not slept."""

from __future__ import annotations

from sqlmodel import select

from bot.queue.models import QueueBooking, QueueSlot
from bot.queue.service import CODE_ALPHABET
from tests.support.queue import AFTER_LEBARAN, FRIDAY, MONDAY, TestClock, at

CITIZEN = 1001


async def test_booking_in_indonesian_skips_holidays_and_gives_a_qr_code(bot):
    rt = bot.rt
    TestClock(rt, at(rt, FRIDAY, 7, 0))
    citizen = bot.user(CITIZEN, "Sari", language_code="id")
    await citizen.send("/start")
    menu = await citizen.reply()
    assert "🎫 Ambil antrean" in menu.labels
    await citizen.click("🎫 Ambil antrean")
    services = await citizen.reply()
    assert "Layanan apa" in services.text
    assert services.labels[0] == "KTP Elektronik (KTP-el)"

    await citizen.click("q:s:ktp-el")
    days = await citizen.reply()
    assert days.edited
    # Friday itself, then nothing until after Nyepi, Idul Fitri and cuti bersama (8-15 March).
    assert [data for _, data in days.buttons][:2] == ["q:d:ktp-el:20270305", "q:d:ktp-el:20270316"]
    assert days.labels[0] == "Jum 5 Mar"

    await citizen.click("q:d:ktp-el:20270316")
    slots = await citizen.reply()
    assert "Selasa, 16 Maret 2027" in slots.text
    # 08:00-14:30 in 30-minute slots; 8 seats each (6 regular + 2 priority).
    assert slots.labels[0] == "08:00-08:30 · 8"
    assert slots.labels[-1] == "14:00-14:30 · 8"
    assert len(slots.labels) == 13

    await citizen.click("08:30-09:00 · 8")
    ask = await citizen.reply()
    assert "prioritas" in ask.text.lower()
    assert ask.labels == ["👴 Lansia (60+)", "♿ Penyandang disabilitas", "🤰 Ibu hamil",
                          "👶 Membawa balita", "Tidak, antrean biasa"]
    await citizen.click("👴 Lansia (60+)")
    done, photo, confirmation = await citizen.replies(3)
    assert done.edited and done.text.startswith("✅")
    assert photo.photo
    with rt.db.session() as s:
        booking = s.exec(select(QueueBooking)).one()
        slot = s.get(QueueSlot, ("ktp-el", AFTER_LEBARAN, "08:30"))
    assert booking.priority and booking.priority_reason == "elderly"
    assert (slot.taken_priority, slot.taken_regular) == (1, 0)
    assert len(booking.code) == 6 and set(booking.code) <= set(CODE_ALPHABET)
    assert not set(booking.code) & set("01OI")
    assert f"Kode booking: {booking.code}" in confirmation.text
    assert "Selasa, 16 Maret 2027" in confirmation.text
    assert "08:30-09:00" in confirmation.text and "Loket: 1-4" in confirmation.text
    assert "Yang perlu dibawa" in confirmation.text
    assert "Fotokopi Kartu Keluarga" in confirmation.text  # the service's requirements
    # The QR image decodes to the booking code: the emulator keeps the uploaded file.
    assert photo.text == f"Kode QR booking {booking.code}"

    # The same slot twice: refused, nothing taken twice.
    await citizen.forge_click("q:p:ktp-el:20270316:0830:n", message=ask)  # a double press
    again = await citizen.reply()
    assert "sudah punya booking" in again.text
    with rt.db.session() as s:
        assert s.get(QueueSlot, ("ktp-el", AFTER_LEBARAN, "08:30")).taken_priority == 1


async def test_my_bookings_cancel_frees_the_seat_and_move_in_english(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 9, 10))
    citizen = bot.user(CITIZEN, "John", language_code="en")
    await citizen.send("/queue")
    services = await citizen.reply()
    assert "Which service" in services.text
    await citizen.click("q:s:akta-kelahiran")
    days = await citizen.reply()
    assert days.labels[0] == "Mon 22 Mar"
    await citizen.click("q:d:akta-kelahiran:20270322")
    slots = await citizen.reply()
    # 09:10 now: the 09:00 slot has begun and is not offered.
    assert slots.labels[0] == "09:30-10:00 · 4"
    await citizen.click("09:30-10:00 · 4")
    await citizen.reply()
    await citizen.click("No, regular queue")
    await citizen.replies(3)

    await citizen.send("/mybookings")
    mine = await citizen.reply()
    with rt.db.session() as s:
        booking = s.exec(select(QueueBooking)).one()
    assert booking.code in mine.text and "Birth certificate" in mine.text
    assert mine.labels == [f"📅 Move {booking.code}", f"✖ Cancel {booking.code}"]

    # Someone else's button is refused and changes nothing.
    other = bot.user(2002, language_code="en")
    await other.send("/start")
    await other.reply()
    await other.forge_click(f"q:xy:{booking.id}")
    answer = await other.callback_answer()
    assert answer["show_alert"] and "no longer valid" in answer["text"]
    await other.expect_silence()

    await citizen.click(f"📅 Move {booking.code}")
    move_days = await citizen.reply()
    await citizen.click(f"q:md:{booking.id}:20270323", message=move_days)
    move_slots = await citizen.reply()
    # Seats for a regular visitor: the priority seat (20% of 4, rounded up) is not theirs.
    await citizen.click("10:00-10:30 · 3", message=move_slots)
    moved = await citizen.reply()
    assert moved.text.startswith("Moved.") and "Tue 23 Mar, 10:00-10:30" in moved.text
    with rt.db.session() as s:
        old = s.get(QueueSlot, ("akta-kelahiran", MONDAY, "09:30"))
        new = s.get(QueueSlot, ("akta-kelahiran", MONDAY.replace(day=23), "10:00"))
        assert (old.taken_regular, new.taken_regular) == (0, 1)

    await citizen.send("/mybookings")
    await citizen.reply()
    await citizen.click(f"✖ Cancel {booking.code}")
    await citizen.reply()
    await citizen.click("Yes, cancel it")
    cancelled = await citizen.reply()
    assert "cancelled" in cancelled.text and "free" in cancelled.text
    with rt.db.session() as s:
        assert s.get(QueueSlot, ("akta-kelahiran", MONDAY.replace(day=23), "10:00")
                     ).taken_regular == 0
        assert s.get(QueueBooking, booking.id).status == "cancelled"
    clock.advance(minutes=1)


async def test_an_answer_about_a_bookable_service_offers_to_book_it(bot):
    rt = bot.rt
    TestClock(rt, at(rt, MONDAY, 7, 0))
    citizen = bot.user(CITIZEN, language_code="en")
    await citizen.send("passport requirements")
    answer = await citizen.reply()
    assert ("🎫 Book a visit", "q:b:paspor") in answer.buttons
    await citizen.click("🎫 Book a visit")
    days = await citizen.reply()
    # The answer stays where it was; the booking starts in a new message.
    assert not days.edited and days.labels[0] == "Mon 22 Mar"
    assert any(m.text.startswith(answer.text[:20]) for m in citizen.messages())
    await citizen.send("skck fee")
    other = await citizen.reply()
    assert ("🎫 Book a visit", "q:b:skck") in other.buttons
    await citizen.send("npwp requirements")  # not bookable in the chat: no button
    assert not any(data.startswith("q:") for _, data in (await citizen.reply()).buttons)


async def test_the_queue_command_offers_the_service_being_talked_about_first(bot):
    rt = bot.rt
    TestClock(rt, at(rt, MONDAY, 7, 0))
    sari = bot.user(CITIZEN, "Sari", language_code="id")
    await sari.send("syarat bikin paspor apa aja")
    await sari.reply()
    await sari.send("/antrean")
    services = await sari.reply()
    assert "Tadi Anda bertanya tentang Paspor" in services.text
    assert services.buttons[0][1] == "q:s:paspor"
    assert services.buttons[1][1] == "q:s:ktp-el"  # then the office's order
    await sari.click(services.labels[0])
    days = await sari.reply()
    assert days.buttons[0][1].startswith("q:d:paspor:")

    john = bot.user(CITIZEN + 1, "John", language_code="en")
    await john.send("how much is an skck")
    await john.reply()
    await john.send("/queue")
    services = await john.reply()
    assert "You were asking about Police certificate (SKCK)" in services.text
    assert services.buttons[0][1] == "q:s:skck"

    # Nothing talked about (or the subject expired): the office's own order and question.
    nobody = bot.user(CITIZEN + 2, language_code="en")
    await nobody.send("/queue")
    services = await nobody.reply()
    assert "Which service do you need?" in services.text
    assert services.buttons[0][1] == "q:s:ktp-el"
    # A command that starts a new subject still clears it: /start, then /queue.
    await john.send("/start")
    await john.reply()
    await john.send("/queue")
    assert (await john.reply()).buttons[0][1] == "q:s:ktp-el"
