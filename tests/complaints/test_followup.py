"""End to end: what follows a filed complaint (issue 19): "not solved" asks what is still wrong
and alerts the officer and the group, a low rating reaches the supervisor, staff appear by name
(with the id only where names collide), and urgent reports say what happens now."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.complaints.access import viewer_for
from bot.complaints.filing import file_complaint, get_complaint
from bot.complaints.handling import resolve, take
from bot.complaints.models import Complaint
from bot.core.i18n import Translator
from bot.core.models import Staff

GROUP = -100781
CITIZEN, OFFICER, OFFICER_B, SUPERVISOR = 1301, 2301, 2302, 3301
STORY = "Antrean loket KIA tidak dipanggil selama tiga jam tanpa penjelasan."


def _staff(bot) -> None:
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=OFFICER_B, role="officer", unit="Perizinan"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))


async def _hello(*users) -> None:
    for user in users:
        await user.send("/start")
        await user.reply()


def _file(bot, **kw) -> Complaint:
    with bot.rt.db.session() as s:
        return file_complaint(
            s, bot.rt, complainant_id=CITIZEN, complainant_name="Sari",
            category=kw.pop("category", "pelayanan"), description=STORY, privacy="named", **kw
        )


async def _until(chat, needle: str, *, edited: bool | None = None, timeout: float = 8) -> Any:
    """The next message (or edit) in ``chat`` holding ``needle``; others are passed over."""
    while True:
        message = await chat.reply(timeout=timeout)
        if needle in (message.text or "") and (edited is None or message.edited == edited):
            return message


async def test_not_solved_asks_what_is_wrong_and_a_low_rating_reaches_the_supervisor(
    make_bot, database_url
):
    bot = await make_bot(database_url, complaints_chat_id=GROUP)
    _staff(bot)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, first_name="Sari", language_code="id")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="id")
    await _hello(citizen, officer, supervisor)
    c = _file(bot)
    post = await group.reply(timeout=8)
    await officer.click("🙋 Ambil", post)
    await officer.callback_answer()
    await citizen.reply(timeout=8)  # handled by Dukcapil
    with bot.rt.db.session() as s:
        resolve(s, bot.rt, get_complaint(s, c.id), actor=viewer_for(s, OFFICER),
                answer="Loket KIA sudah ditambah petugas.")
    resolved = await citizen.reply(timeout=8)
    await citizen.click("👎 Belum selesai", resolved)
    asked = await citizen.reply()
    assert f"Pengaduan Anda {c.ticket} dibuka kembali." in asked.text
    assert "Apa yang masih belum selesai?" in asked.text and asked.labels == []
    told = await _until(officer, "belum selesai")
    assert "Ditangani oleh: Dukcapil · Budi" in told.text
    await _until(group, "belum selesai", edited=False)

    await citizen.send("Hari ini antrean KIA masih tidak dipanggil.")
    thanks = await citizen.reply()
    assert f"Petugas yang menangani {c.ticket} akan membacanya." in thanks.text
    assert "sejauh ini" in thanks.text and len(thanks.labels) == 5
    why = await _until(officer, "Masih belum selesai")
    assert "masih tidak dipanggil" in why.text
    await _until(group, "masih tidak dipanggil", edited=False)
    await citizen.click(f"cc:rate:{c.id}:2", thanks)
    assert "Terima kasih atas penilaian" in (await citizen.reply()).text
    low = await supervisor.reply(timeout=8)
    assert f"Penilaian rendah untuk pengaduan {c.ticket}: 2 dari 5 bintang." in low.text
    assert "belum selesai" in low.text and "Dukcapil · Budi" in low.text
    await supervisor.click("🎫 Lihat tiket", low)
    card = await supervisor.reply()
    assert "masih tidak dipanggil" in card.text and "Budi" in card.text
    with bot.rt.db.session() as s:
        stored = get_complaint(s, c.id)
        assert (stored.status, stored.reopen_count, stored.rating) == ("in_progress", 1, 2)


async def test_staff_by_name_with_the_id_only_where_names_collide(tmp_path, make_bot):
    bot = await make_bot(f"sqlite:///{tmp_path}/names.db", complaints_chat_id=GROUP)
    _staff(bot)
    group = bot.group(GROUP)
    budi_a = bot.user(OFFICER, first_name="Budi", language_code="id")
    budi_b = bot.user(OFFICER_B, first_name="Budi", language_code="id")
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="en")
    citizen = bot.user(CITIZEN, language_code="id")
    await _hello(budi_a, budi_b, supervisor, citizen)
    for user in (budi_a, budi_b, supervisor):  # acting once makes the name known
        await user.send("/complaints")
        await user.reply()
    c = _file(bot, category="lainnya")
    post = await group.reply(timeout=8)
    await supervisor.click("📌 Disposisi", post)
    await supervisor.callback_answer()
    menu = await group.reply()
    assert menu.labels == [
        "🏢 Dukcapil", "🏢 Perizinan",
        f"👤 Budi ({OFFICER}) · Dukcapil", f"👤 Budi ({OFFICER_B}) · Perizinan", "👤 Wati",
    ]
    await supervisor.click(f"👤 Budi ({OFFICER_B}) · Perizinan", menu)
    confirm = await supervisor.callback_answer()
    assert confirm["text"] == f"{c.ticket} assigned to Perizinan · Budi ({OFFICER_B})."
    edited = await _until(group, "🙋 Ditangani", edited=True)
    assert f"🙋 Ditangani Perizinan · Budi ({OFFICER_B})" in edited.text
    await supervisor.send("/complaints")
    listing = await supervisor.reply()
    assert f"👤 Budi ({OFFICER_B})" in listing.text
    # Names that no longer collide lose the id.
    with bot.rt.db.session() as s:
        s.get(Staff, OFFICER).name = "Budi Santoso"
    await supervisor.send("/complaints")
    assert "👤 Budi ·" not in (listing := await supervisor.reply()).text
    assert listing.text.rstrip().endswith("👤 Budi")


async def test_a_safety_report_says_what_happens_now(bot):
    citizen = bot.user(CITIZEN, first_name="Ann", language_code="en")
    supervisor = bot.user(SUPERVISOR, first_name="Wati", language_code="id")
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    await _hello(supervisor)
    await citizen.send("/complaint")
    await citizen.reply()
    await citizen.click("Safety and security")
    await citizen.reply()
    await citizen.send("The emergency exit on the second floor is locked with a chain.")
    await citizen.reply()
    await citizen.click("No particular service")
    await citizen.reply()
    await citizen.click("Today")
    await citizen.reply()
    await citizen.send("second floor, near the stairs")
    await citizen.replies(2)
    await citizen.click("✔️ Done")
    await citizen.reply()
    await citizen.click("cf:priv:named")
    await citizen.reply()
    await citizen.click("cf:ok")
    receipt = await citizen.reply()
    with bot.rt.db.session() as s:
        c = s.exec(select(Complaint)).one()
    call_back = Translator("en").datetime(c.response_due, bot.rt.tz)
    assert "🚨 What happens now" in receipt.text
    assert (
        "A supervisor has been alerted and will contact you within 1 working day, by "
        f"{call_back}." in receipt.text
    )
    assert "Expected first response" not in receipt.text  # no date weeks away
    assert bot.rt.calendar.add_working_days(
        c.received_at.astimezone(bot.rt.tz).date(), 2
    ) == c.resolve_due.astimezone(bot.rt.tz).date()
    alert = await supervisor.reply(timeout=8)
    assert f"Pengaduan mendesak {c.ticket}" in alert.text and "hubungi pelapor" in alert.text
    assert "Tempat: second floor, near the stairs" in alert.text
    with bot.rt.db.session() as s:
        take(s, bot.rt, get_complaint(s, c.id), actor=viewer_for(s, SUPERVISOR))
