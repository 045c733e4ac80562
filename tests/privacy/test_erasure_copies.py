"""/hapusdata reaches every copy: a citizen who asked questions, handed one to an officer, filed
complaints with their name, NIK and phone in the text, followed an application and booked a
queue visit erases their data in webhook mode; a dump of the whole database (every table, every
column) then holds neither their Telegram id, nor their name, NIK or phone number. On SQLite
and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.applications.service import register_application
from bot.complaints.filing import file_complaint
from bot.complaints.models import Complaint
from bot.core.models import Staff, utcnow
from bot.outbox.models import OutboxMessage
from bot.privacy.registry import apply_retention
from bot.queue.service import book
from tests.support.complaints import file_in_chat
from tests.support.dump import dump_database, lines_with
from tests.support.queue import MONDAY, TUESDAY, at
from tests.support.webhook import webhook_bot

GROUP = -100600
OFFICER = 2001
# A Telegram id no other number in the database could contain by chance.
CITIZEN = 7310458826
FIRST, LAST = "Rahmat", "Hidayatullah"
NIK = "3174012345678901"
PHONE = "0812-9876-5432"
RELATIVE = "Siti Aminah"  # the application is the citizen's mother's: the office's record


# What identifies the person, as they wrote it; after the erasure also in other spellings.
STORED = [str(CITIZEN), FIRST, LAST, NIK, PHONE]
ANY_FORM = [*STORED, PHONE.replace("-", ""), "3174 0123 4567 8901", "6281298765432"]


async def test_erasure_leaves_no_copy_of_the_person_anywhere(database_url):
    async with webhook_bot(
        database_url, complaints_chat_id=GROUP, officers_chat_id=GROUP
    ) as bot:
        rt = bot.rt
        with rt.db.session() as s:
            s.add(Staff(telegram_id=OFFICER, role="officer"))
        group = bot.group(GROUP)
        bot.emulator.add_user(CITIZEN, FIRST, "id", last_name=LAST)
        citizen = bot.user(CITIZEN)
        officer = bot.user(OFFICER, first_name="Budi", language_code="id")
        for user in (citizen, officer):
            await user.send("/start")
            await user.reply()

        # A question the bot cannot answer, with their name and phone, handed to an officer
        # who answers by name.
        await citizen.send(f"nama saya {FIRST} {LAST}, hp {PHONE}, boleh bawa kucing ke kantor?")
        sorry = await citizen.reply()
        await citizen.click("🙋 Tanya petugas", sorry)
        await citizen.replies(2)
        handoff = await group.reply(timeout=8)
        await group.send(officer, f"Pak {FIRST}, kucing tidak boleh dibawa.", reply_to=handoff)
        await group.reply()
        await citizen.reply(timeout=8)

        # A named complaint in the chat, with NIK and phone in the text: the group's post
        # shows the name, the numbers masked.
        story = f"Saya {FIRST} {LAST} (NIK {NIK}, HP {PHONE}) dibentak petugas loket tiga."
        await file_in_chat(citizen, story, "named")
        post = await group.reply(timeout=8)
        assert f"{FIRST} {LAST}" in post.text and "3174********8901" in post.text
        assert NIK not in post.text and PHONE not in post.text
        with rt.db.session() as s:
            named = s.exec(select(Complaint).where(Complaint.privacy == "named")).one()
        # The officer takes it, opens it (the answer to /tiket is kept two days for a
        # redelivery) and replies by name.
        await officer.click("🙋 Ambil", post)
        await officer.callback_answer()
        await citizen.reply(timeout=8)
        await officer.send(f"/tiket {named.ticket}")
        card = await officer.reply()
        assert f"{FIRST} {LAST}" in card.text
        await officer.click("💬 Balas", card)
        await officer.reply()
        await officer.send(f"Terima kasih Pak {FIRST} {LAST}, kami periksa.")
        await officer.reply()
        await citizen.reply(timeout=8)
        # An anonymous one too, and a queue visit and an application followed.
        with rt.db.session() as s:
            file_complaint(
                s, rt, complainant_id=CITIZEN, complainant_name=None, category="fasilitas",
                description=f"Toilet rusak, hubungi saya di {PHONE} bila perlu.",
                privacy="anonymous",
            )
            book(s, rt, user_id=CITIZEN, language="id", service_id="kia", day=TUESDAY,
                 start="09:00", priority_reason="pregnant", now=at(rt, MONDAY, 6, 0))
            application = register_application(
                s, rt, service_id="ktp-el", applicant_name=RELATIVE, actor_id=OFFICER
            )
        await group.replies(1, timeout=8)
        await citizen.send(f"/cekstatus {application.display_number} "
                           f"{application.verification_code}")
        await citizen.reply()
        await citizen.click("🔔 Ikuti permohonan ini")
        await citizen.callback_answer()
        await citizen.reply()
        await bot.finished()
        before = dump_database(database_url)
        for needle in STORED:
            assert lines_with(before, [needle]), f"{needle!r} should be stored before erasure"

        await citizen.send("/hapusdata")
        await citizen.reply()
        await citizen.click("Ya, hapus data saya")
        _done, report = await citizen.replies(2)
        assert "Pengaduan Anda tetap disimpan kantor" in report.text
        await bot.finished()

        after = dump_database(database_url)
        leaks = lines_with(after, ANY_FORM)
        assert leaks == [], "\n".join(leaks)
        assert RELATIVE in after  # the office's record of the application stays
        # The office keeps the complaints and the exchange, without the person.
        with rt.db.session() as s:
            kept = s.get(Complaint, named.id)
        assert kept.complainant_id == 0 and "[name]" in kept.description
        assert "[NIK]" in kept.description and "dibentak petugas loket tiga" in kept.description

        # Sent rows of the outbox are copies too: gone after RETENTION_DAYS_MESSAGES.
        with rt.db.session() as s:
            assert s.exec(select(OutboxMessage)).all()
            pruned = apply_retention(s, {"messages": 30}, now=utcnow() + timedelta(days=31))
            assert pruned["messages"] > 0
            left = s.exec(select(OutboxMessage.status)).all()
        assert set(left) <= {"pending", "claimed"}
