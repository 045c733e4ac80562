"""Supervisors through the emulator: /tutup closes part of a day and the booked are told at once
with a button to move; /statistik as text, chart, CSV and XLSX; /gangguan notices on top of
answers, told once to the booked and to followers of open applications, and the all-clear."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import select

from bot.applications.lookup import follow
from bot.applications.service import register_application
from bot.core.models import Staff
from bot.outbox.models import OutboxMessage
from bot.queue import counter
from bot.queue.jobs import tick
from bot.queue.models import QueueBooking, QueueSlot
from bot.queue.service import book, rooms
from handlers.outbox_delivery import drain_outbox
from tests.support.queue import MONDAY, TUESDAY, TestClock, at

SUPERVISOR, OFFICER = 9001, 7001


async def deliver(bot, clock: TestClock) -> None:  # noqa: ANN001
    for _ in range(3):
        await drain_outbox(bot.app, bot.rt, now=clock.advance(seconds=2))


def _book(rt, user_id: int, day, start: str, language: str = "id",  # noqa: ANN001
          service_id: str = "ktp-el") -> QueueBooking:
    with rt.db.session() as s:
        return book(s, rt, user_id=user_id, language=language, service_id=service_id, day=day,
                    start=start, priority_reason=None, now=at(rt, MONDAY, 6, 0))


async def _staff(bot, user_id: int, role: str, language: str = "id"):  # noqa: ANN001, ANN202
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=user_id, role=role))
    return bot.user(user_id, language_code=language)


async def _citizens(bot, *ids_languages: tuple[int, str]) -> dict:  # noqa: ANN001
    people = {}
    for user_id, language in ids_languages:
        people[user_id] = bot.user(user_id, language_code=language)
        await people[user_id].send("/start")
        await people[user_id].reply()
    return people


async def test_closing_part_of_a_day_tells_the_booked_and_lets_them_move(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 7, 0))
    people = await _citizens(bot, (1001, "id"), (1002, "en"))
    hers = _book(rt, 1001, TUESDAY, "10:00")
    his = _book(rt, 1002, TUESDAY, "08:00", "en")
    officer = await _staff(bot, OFFICER, "officer")
    await officer.send("/tutup 2027-03-23")
    assert "Perintah itu tidak saya kenal" in (await officer.reply()).text

    supervisor = await _staff(bot, SUPERVISOR, "supervisor")
    await supervisor.send("/tutup 2027-03-23 09:00-12:00 ktp-el")
    closed = await supervisor.reply()
    assert closed.text.startswith("6 slot ditutup. 1 warga")
    await deliver(bot, clock)
    told = await people[1001].reply()
    assert "menutup layanan KTP Elektronik (KTP-el) pada Selasa, 23 Maret 2027, 10:00-10:30" \
        in told.text
    assert told.labels == [f"📅 Pindahkan {hers.code}"]
    await people[1002].expect_silence()
    with rt.db.session() as s:
        starts = [r.start for r in rooms(s, rt, "ktp-el", TUESDAY, clock(), priority=True)]
        assert "08:30" in starts and "09:00" not in starts and "11:30" not in starts
        assert "12:00" in starts
        assert s.get(QueueBooking, hers.id).status == "closed"
        assert s.get(QueueBooking, his.id).status == "booked"

    await people[1001].click(f"📅 Pindahkan {hers.code}")
    days = await people[1001].reply()
    await people[1001].click(f"q:md:{hers.id}:20270323", message=days)
    slots = await people[1001].reply()
    assert "10:00-10:30" not in " ".join(slots.labels)
    await people[1001].click(f"q:mt:{hers.id}:20270323:1300", message=slots)
    moved = await people[1001].reply()
    assert moved.text.startswith("Sudah dipindah.") and "13:00-13:30" in moved.text
    with rt.db.session() as s:
        assert s.get(QueueBooking, hers.id).status == "booked"


async def test_queue_figures_as_text_chart_csv_and_xlsx(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 7, 0))
    served = [_book(rt, 1000 + n, MONDAY, "08:00") for n in range(2)]
    _book(rt, 1010, MONDAY, "09:00")  # never comes: a no-show once the day is over
    with rt.db.session() as s:
        counter.set_desk(s, rt, officer_id=OFFICER, counter="2")
        walk, _ = counter.walk_in(s, rt, service_id="ktp-el", priority_reason=None,
                                  now=at(rt, MONDAY, 8, 0))
    for n, booking in enumerate(served):
        with rt.db.session() as s:
            counter.check_in(s, rt, code=booking.code, now=at(rt, MONDAY, 8, 0))
        with rt.db.session() as s:
            counter.call_next(s, rt, officer_id=OFFICER, now=at(rt, MONDAY, 8, 10 + 10 * n))
        with rt.db.session() as s:
            counter.done(s, rt, officer_id=OFFICER, now=at(rt, MONDAY, 8, 15 + 10 * n))
    clock.set(at(rt, TUESDAY, 8, 0))

    supervisor = await _staff(bot, SUPERVISOR, "supervisor")
    await supervisor.send("/statistik 2027-03-22")
    figures = await supervisor.reply()
    assert "Data antrean" in figures.text and "Senin, 22 Maret 2027" in figures.text
    assert "Booking 3, tidak datang 1, tanpa booking 1, dilayani 2" in figures.text
    # Waits of 10 and 20 minutes: average 15, nearest-rank 90th percentile 20.
    assert "rata-rata 15.0 menit, 90% dalam 20.0 menit" in figures.text
    assert "Di loket: rata-rata 5.0 menit" in figures.text
    assert figures.labels == ["📊 Grafik", "CSV", "XLSX"]

    await supervisor.click("📊 Grafik")
    chart = await supervisor.reply()
    assert bot.emulator.files[chart.photo[-1]["file_id"]].data.startswith(b"\x89PNG")
    await supervisor.click("CSV", message=figures)
    csv_doc = await supervisor.reply()
    csv_text = bot.emulator.files[csv_doc.document["file_id"]].data.decode()
    assert csv_text.splitlines()[1] == "2027-03-22,ktp-el,3,1,1,2,15.0,20.0,5.0,5.0"
    await supervisor.click("XLSX", message=figures)
    xlsx_doc = await supervisor.reply()
    sheet = load_workbook(io.BytesIO(bot.emulator.files[xlsx_doc.document["file_id"]].data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("day", "service", "bookings") and rows[1][2:6] == (3, 1, 1, 2)

    citizen = bot.user(1001, language_code="en")
    await citizen.send("/statistik")
    assert "I don't know that command" in (await citizen.reply()).text


async def test_disruption_notice_on_answers_told_once_and_all_clear(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 8, 0))
    people = await _citizens(bot, (1001, "id"), (1002, "en"), (1003, "id"), (1004, "id"))
    _book(rt, 1001, MONDAY, "10:00")
    _book(rt, 1002, TUESDAY, "10:00", "en")
    _book(rt, 1003, TUESDAY, "10:00", service_id="paspor")  # another service: not told
    with rt.db.session() as s:  # 1004 follows an open KTP application
        application = register_application(s, rt, service_id="ktp-el",
                                           applicant_name="Dewi", actor_id=None,
                                           now=at(rt, MONDAY, 7, 0))
        follow(s, application=application, user_id=1004, now=at(rt, MONDAY, 7, 0))

    supervisor = await _staff(bot, SUPERVISOR, "supervisor")
    await supervisor.send("/gangguan ktp-el 2027-03-23 15:00 Blangko KTP habis")
    posted = await supervisor.reply()
    assert "Gangguan layanan" in posted.text and "Blangko KTP habis" in posted.text
    assert "3 orang diberi tahu" in posted.text
    await deliver(bot, clock)
    told = await people[1001].reply()
    assert told.text.startswith("⚠️ Gangguan layanan (KTP Elektronik (KTP-el)): Blangko KTP "
                                "habis. Perkiraan selesai: 23 Mar 2027 15:00.")
    assert told.labels == ["📅 Booking saya"]
    english = await people[1002].reply()
    assert english.text.startswith("⚠️ Service disruption (Electronic ID card (KTP-el))")
    assert (await people[1004].reply()).text.startswith("⚠️ Gangguan layanan")
    await people[1003].expect_silence()

    # On top of an answer about the service, not about another one.
    await people[1003].send("syarat ktp")
    answer = await people[1003].reply()
    assert answer.text.startswith("⚠️ Gangguan layanan (KTP Elektronik (KTP-el))")
    assert "🎫 Ambil antrean" in answer.labels
    await people[1003].send("syarat skck")
    assert "Gangguan" not in (await people[1003].reply()).text
    # The service's card too (as opened from the list of services).
    await people[1003].forge_click("svc:card:ktp-el", message=answer)
    card = await people[1003].reply()
    assert card.text.startswith("⚠️ Gangguan layanan (KTP Elektronik (KTP-el))")

    # Ended by the supervisor: the all-clear goes to the same people, once.
    await supervisor.send("/gangguan selesai")
    assert "1 pengumuman diakhiri" in (await supervisor.reply()).text
    with rt.db.session() as s:
        assert tick(s, rt, clock.advance(days=2)).notices_ended == 0
    await deliver(bot, clock)
    for uid in (1001, 1002, 1004):
        assert "✅" in (await people[uid].reply()).text
    await people[1003].expect_silence()
    with rt.db.session() as s:
        keys = [k for k in s.exec(select(OutboxMessage.dedupe_key)).all()
                if k and k.startswith("queue:clear:")]
    assert len(keys) == 3


async def test_a_notice_ends_by_itself_at_the_expected_end(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 8, 0))
    people = await _citizens(bot, (1001, "en"))
    _book(rt, 1001, MONDAY, "13:00", "en")
    supervisor = await _staff(bot, SUPERVISOR, "supervisor", "en")
    await supervisor.send("/disruption all 12:00 System down")
    assert "1 people are being told" in (await supervisor.reply()).text
    await deliver(bot, clock)
    assert "all services" in (await people[1001].reply()).text
    with rt.db.session() as s:
        assert tick(s, rt, clock.set(at(rt, MONDAY, 11, 59))).notices_ended == 0
        assert tick(s, rt, clock.advance(minutes=1)).notices_ended == 1
    await deliver(bot, clock)
    reminder, clear = await people[1001].replies(2)
    assert reminder.text.startswith("🔔 Today at 13:00-13:30")  # the morning reminder
    assert clear.text.startswith("✅ All clear (all services)")


async def test_a_unit_supervisor_closes_and_posts_for_the_units_services_only(bot):
    rt = bot.rt
    clock = TestClock(rt, at(rt, MONDAY, 7, 0))
    await _citizens(bot, (1001, "id"), (1002, "id"))
    ktp = _book(rt, 1001, TUESDAY, "10:00")  # kependudukan
    passport = _book(rt, 1002, TUESDAY, "10:00", service_id="paspor")  # imigrasi-kepolisian
    supervisor = await _staff(bot, SUPERVISOR, "supervisor")
    with rt.db.session() as s:
        s.get(Staff, SUPERVISOR).unit = "kependudukan"
    await supervisor.send("/tutup 2027-03-23 10:00-11:00 paspor")
    assert "layanan unit Anda saja" in (await supervisor.reply()).text
    await supervisor.send("/gangguan semua 14:00 Listrik padam")
    assert "layanan unit itu saja" in (await supervisor.reply()).text
    await supervisor.send("/gangguan paspor 14:00 Sistem gangguan")
    assert "layanan unit itu saja" in (await supervisor.reply()).text
    # "Every service": the unit's services only; the passport booking stays.
    await supervisor.send("/tutup 2027-03-23 10:00-11:00")
    done = await supervisor.reply()
    assert "1 warga yang sudah booking sedang diberi tahu" in done.text
    await deliver(bot, clock)
    with rt.db.session() as s:
        assert s.get(QueueSlot, ("ktp-el", TUESDAY, ktp.start)).closed
        assert not s.get(QueueSlot, ("paspor", TUESDAY, passport.start)).closed
    # A supervisor in no unit closes every service, as before.
    with rt.db.session() as s:
        s.get(Staff, SUPERVISOR).unit = None
    await supervisor.send("/tutup 2027-03-23 10:00-11:00")
    assert "1 warga yang sudah booking" in (await supervisor.reply()).text
    with rt.db.session() as s:
        assert s.get(QueueSlot, ("paspor", TUESDAY, passport.start)).closed


async def test_a_unit_supervisor_ends_the_units_notices_only(bot):
    rt = bot.rt
    admin = await _staff(bot, 9002, "admin")
    await admin.send("/gangguan paspor 2027-03-23 15:00 Sistem imigrasi gangguan")
    assert "Gangguan layanan" in (await admin.reply()).text
    await admin.send("/gangguan semua 2027-03-23 15:00 Listrik padam")
    assert "Gangguan layanan" in (await admin.reply()).text
    supervisor = await _staff(bot, SUPERVISOR, "supervisor")
    with rt.db.session() as s:
        s.get(Staff, SUPERVISOR).unit = "kependudukan"
    await supervisor.send("/gangguan ktp-el 2027-03-23 15:00 Blangko KTP habis")
    assert "Gangguan layanan" in (await supervisor.reply()).text

    # Another unit's notice, or the whole office's, is not theirs to end.
    for command in ("/gangguan selesai paspor", "/gangguan selesai semua"):
        await supervisor.send(command)
        assert "layanan unit itu saja" in (await supervisor.reply()).text
    # Plain "selesai" ends the unit's notice and leaves the others in force.
    await supervisor.send("/gangguan selesai")
    assert "1 pengumuman diakhiri" in (await supervisor.reply()).text
    await supervisor.send("/gangguan selesai")
    assert "Tidak ada pengumuman gangguan" in (await supervisor.reply()).text

    def in_force() -> list[str | None]:
        from bot.queue.notices import active_notices

        with rt.db.session() as s:
            return [n.service_id for n in active_notices(s, rt.now())]

    assert in_force() == ["paspor", None]
    # The admin may name one service, or the office-wide ones.
    await admin.send("/gangguan selesai semua")
    assert "1 pengumuman diakhiri" in (await admin.reply()).text
    assert in_force() == ["paspor"]
    await admin.send("/gangguan selesai")
    assert "1 pengumuman diakhiri" in (await admin.reply()).text
    assert in_force() == []
