"""End to end: filing a complaint on a phone asks only what it does not know yet: the date by
buttons or in words, the place in words or as a pin, a few words as the description, and no
step that does not apply (issue 19)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.complaints.models import Complaint
from bot.core.i18n import Translator
from bot.core.models import utcnow

GROUP = -100779


def _complaint(bot) -> Complaint:
    with bot.rt.db.session() as s:
        return s.exec(select(Complaint).order_by(Complaint.id.desc())).first()


async def test_a_complaint_told_in_one_message_asks_only_the_place(make_bot, database_url):
    bot = await make_bot(database_url, complaints_chat_id=GROUP)
    group = bot.group(GROUP)
    citizen = bot.user(1201, first_name="Sari", language_code="id")
    story = "Kemarin siang saya dimintai uang 50 ribu di loket waktu urus KTP"
    await citizen.send(story)
    offer = await citizen.reply()
    assert "pungli" in offer.text
    await citizen.click("📣 Ajukan pengaduan")
    # Category (illegal fee), description, service (KTP) and day (kemarin) are known.
    where = await citizen.reply()
    assert "Di mana kejadiannya?" in where.text
    assert where.keyboard == ["📍 Kirim lokasi saya", "⏭ Lewati"]
    await citizen.send_location(-6.5971, 106.806)  # the request-location button's answer
    noted, evidence = await citizen.replies(2)
    assert noted.text == "📍 Lokasi sudah dicatat." and noted.reply_markup == {
        "remove_keyboard": True
    }
    await citizen.click("✔️ Selesai", evidence)
    await citizen.reply()
    await citizen.click("cf:priv:named")
    summary = await citizen.reply()
    yesterday = (utcnow().astimezone(bot.rt.tz) - timedelta(days=1)).date()
    for line in (
        "Kategori: Biaya atau pungutan liar",
        "Layanan: KTP Elektronik (KTP-el)",
        "Lokasi: -6.5971, 106.806",
        story,
    ):
        assert line in summary.text
    await citizen.click("📨 Kirim pengaduan")
    assert "Yang terjadi sekarang" in (await citizen.reply()).text
    c = _complaint(bot)
    assert (c.category, c.service_id, c.occurred_on) == ("biaya", "ktp-el", yesterday)
    assert (c.latitude, c.longitude, c.place) == (-6.5971, 106.806, None)
    post = await group.reply(timeout=8)
    assert "Lokasi: -6.5971, 106.806" in post.text

    # Two words say what happened: "dimintai uang" is a complaint.
    other = bot.user(1202, language_code="id")
    await other.send("/pengaduan")
    await other.reply()
    await other.click("Biaya atau pungutan liar")
    await other.reply()
    await other.send("pungli")
    assert "paling sedikit 2 kata" in (await other.reply()).text
    await other.send("dimintai uang")
    assert "Layanan apa yang Anda adukan?" in (await other.reply()).text


async def test_a_day_from_the_buttons_and_no_place_for_information(bot_sqlite):
    bot = bot_sqlite
    citizen = bot.user(1203, first_name="Ann", language_code="en")
    await citizen.send("/complaint")
    await citizen.reply()
    await citizen.click("Unclear or wrong information")
    await citizen.reply()
    await citizen.send("wrong")
    assert "at least 2 words" in (await citizen.reply()).text
    await citizen.send("The website shows the wrong opening hours")
    assert "Which service" in (await citizen.reply()).text
    await citizen.click("No particular service")
    when = await citizen.reply()
    assert when.labels == ["Today", "Yesterday", "📅 Another day", "⏭ Skip"]
    await citizen.send("tomorrow")
    assert "I could not read that date" in (await citizen.reply()).text
    await citizen.click("📅 Another day")
    days = await citizen.reply()
    today = utcnow().astimezone(bot.rt.tz).date()
    picked = today - timedelta(days=4)
    tr = Translator("en")
    assert days.labels[:3] == [tr.short_day(today - timedelta(days=n)) for n in (2, 3, 4)]
    assert len(days.labels) == 8 and days.labels[-1] == "⏭ Skip"
    # A forged day in the future is no button the bot gave: refused, the question stays.
    await citizen.forge_click(f"cf:when:{(today + timedelta(days=1)).isoformat()}")
    assert "no longer valid" in (await citizen.callback_answer())["text"]
    await citizen.click(tr.short_day(picked))
    # Wrong information has no place: the evidence is asked next.
    evidence = await citizen.reply()
    assert "evidence" in evidence.text and evidence.keyboard == []
    await citizen.click("✔️ Done")
    await citizen.reply()
    await citizen.click("cf:priv:confidential")
    summary = await citizen.reply()
    assert "Place" not in summary.text and "Location" not in summary.text
    assert "Happened on:" in summary.text
    await citizen.click("cf:ok")
    assert "What happens next" in (await citizen.reply()).text
    c = _complaint(bot)
    assert (c.category, c.occurred_on, c.place, c.latitude) == ("informasi", picked, None, None)
