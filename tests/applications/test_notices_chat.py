"""Notices that say what to do next (issue 19), end to end: where, when, by when and with what
to collect a result; the applicant's reply to "needs correction" with the missing document, and
the officer's answer; a placeholder note left out; the officer told who reads the note."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import select

from bot.applications.lookup import follow
from bot.applications.models import ApplicationMessage
from bot.applications.service import change_status, get_application, register_application
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.people.staff import add_staff
from handlers.outbox_delivery import drain_outbox

ADMIN, OFFICER, CITIZEN, OTHER = 1, 2, 3, 4
GROUP = -100777


def _registered(bot, service_id: str, followers: tuple[int, ...]):
    with bot.rt.db.session() as s:
        add_staff(s, telegram_id=OFFICER, role="officer", actor_id=ADMIN)
        application = register_application(
            s, bot.rt, service_id=service_id, applicant_name="Dewi", actor_id=OFFICER
        )
        for user_id in followers:
            follow(s, application=application, user_id=user_id)
    return application


async def _hello(*users) -> None:
    for user in users:
        await user.send("/start")
        await user.reply()


def _collect_by(bot, locale: str) -> str:
    """The pickup deadline as the notice writes it: 30 days on, moved off a closed day."""
    rt = bot.rt
    day = rt.calendar.next_working_day(utcnow().astimezone(rt.tz).date() + timedelta(days=30))
    return Translator(locale).date(datetime.combine(day, time(12), tzinfo=rt.tz), rt.tz)


async def test_ready_for_pickup_says_where_when_by_when_and_what_to_bring(bot):
    en, sari = bot.user(CITIZEN, language_code="en"), bot.user(OTHER)
    await _hello(en, sari)
    application = _registered(bot, "paspor", (CITIZEN, OTHER))
    officer = bot.user(OFFICER)
    await officer.send(f"/update {application.display_number}")
    await officer.reply()
    await officer.click("➡️ Siap diambil")
    ask = await officer.reply()
    assert "2 pengikut akan membacanya, dalam bahasa Inggris (1), bahasa Indonesia (1)" in ask.text
    await officer.send("-")  # "no note", typed to get past the form
    await officer.reply()
    await drain_outbox(bot.app, bot.rt)

    notice = await en.reply()
    for words in ("Status: Ready for pickup", "Counter 13 (passport collection)",
                  "Immigration Office passport unit", "13:00-15:00",
                  f"Please collect it by {_collect_by(bot, 'en')}", "your receipt",
                  "Proof of payment of the passport fee (PNBP)", "Your original ID card",
                  "must be collected by its holder in person"):
        assert words in notice.text, words
    assert "Note from the officer" not in notice.text  # "-" is no note
    notice = await sari.reply()
    for words in ("Status: Siap diambil", "Loket 13 (pengambilan paspor)", "Jam pengambilan",
                  f"Mohon diambil paling lambat {_collect_by(bot, 'id')}",
                  "tanda terima (nomor registrasi)", "Bukti pembayaran PNBP", "KTP-el asli"):
        assert words in notice.text, words
    assert "Catatan" not in notice.text
    # The card says the same to whoever looks it up later.
    await sari.send(f"/cekstatus {application.display_number} {application.verification_code}")
    card = await sari.reply()
    assert "Loket 13 (pengambilan paspor)" in card.text and "—" not in card.text

    # A KTP-el applicant is not asked for the ID card they are collecting; nobody follows it.
    ktp = _registered(bot, "ktp-el", ())
    await officer.send(f"/update {ktp.display_number}")
    await officer.reply()
    await officer.click("➡️ Siap diambil")
    assert "Belum ada yang mengikuti permohonan ini" in (await officer.reply()).text
    with bot.rt.db.session() as s:
        follow(s, application=get_application(s, ktp.tracking_number), user_id=CITIZEN)
    await officer.click("Tanpa catatan")
    await officer.reply()
    await drain_outbox(bot.app, bot.rt)
    notice = await en.reply()
    assert "Counter 4 (ID card collection)" in notice.text
    bring = [line for line in notice.text.splitlines() if line.startswith("• ")]
    assert bring == ["• your receipt (the tracking number)"]
    assert "their own ID card" in notice.text  # the office's note: someone else collecting


async def test_needs_correction_takes_the_missing_document_to_the_officer_and_back(
    make_bot, database_url
):
    bot = await make_bot(database_url, officers_chat_id=GROUP)
    en, sari = bot.user(CITIZEN, language_code="en"), bot.user(OTHER)
    officer = bot.user(OFFICER)
    await _hello(en, sari, officer)
    application = _registered(bot, "ktp-el", (CITIZEN, OTHER))
    await officer.send(f"/update {application.display_number}")
    await officer.reply()
    await officer.click("➡️ Perlu perbaikan")
    await officer.reply()
    await officer.send("-")
    assert "wajib disertai catatan" in (await officer.reply()).text  # "-" says nothing
    await officer.send(f"/update {application.display_number}")
    await officer.reply()
    await officer.click("➡️ Perlu perbaikan")
    await officer.reply()
    await officer.send("Fotokopi KK belum ada")
    await officer.reply()
    await drain_outbox(bot.app, bot.rt)

    notice = await sari.reply()
    assert "Fotokopi KK belum ada" in notice.text
    assert "✉️ Balas atau kirim dokumen" in notice.labels
    notice = await en.reply()
    assert "Send what is missing with the button below" in notice.text
    # Someone who does not follow it cannot use the button.
    stranger = bot.user(OTHER + 1)
    await _hello(stranger)
    await stranger.forge_click(f"st:rp:{application.id}")
    assert (await stranger.callback_answer())["show_alert"] is True

    await en.click("✉️ Reply or send the document")
    await en.callback_answer()
    assert "or send a photo or a file" in (await en.reply()).text
    await en.send_photo(caption="Here is the <KK> copy")
    assert "Sent to the office" in (await en.reply()).text
    await drain_outbox(bot.app, bot.rt)
    copied = await officer.reply()  # to the officer who asked, not the group
    assert copied.method == "copyMessage" and copied.photo
    assert "Pesan dari pemohon" in copied.text and application.display_number in copied.text
    assert "Pemohon membaca bahasa Inggris" in copied.text
    assert "Here is the &lt;KK&gt; copy" in copied.html
    await officer.click("↩️ Jawab pemohon")
    await officer.callback_answer()
    assert "Pemohon membaca bahasa Inggris" in (await officer.reply()).text
    await officer.send("Terima kasih, sudah lengkap")
    assert "Terkirim ke pemohon" in (await officer.reply()).text
    await drain_outbox(bot.app, bot.rt)
    answer = await en.reply()
    assert "The office answers" in answer.text and "Terima kasih, sudah lengkap" in answer.text
    assert "✉️ Reply or send the document" in answer.labels

    # A correction asked through the back office (no officer behind it) goes to the group;
    # an officer answers from there, in their private chat.
    group = bot.group(GROUP)
    with bot.rt.db.session() as s:
        change_status(s, bot.rt, tracking_number=application.tracking_number,
                      status="in_verification", actor_id=None, source="api")
        change_status(s, bot.rt, tracking_number=application.tracking_number,
                      status="needs_correction", note="Pas foto kurang", actor_id=None,
                      source="api")
    await drain_outbox(bot.app, bot.rt)
    await en.replies(2)
    await sari.replies(2)
    await sari.click("✉️ Balas atau kirim dokumen")
    await sari.callback_answer()
    await sari.reply()
    await sari.send("Besok saya antar ke loket")
    await sari.reply()
    await drain_outbox(bot.app, bot.rt)
    posted = await group.reply()
    assert "Besok saya antar ke loket" in posted.text
    await officer.click("↩️ Jawab pemohon", message=posted)
    assert "chat pribadi" in (await officer.callback_answer())["text"]
    assert "Pemohon membaca bahasa Indonesia" in (await officer.reply()).text
    await officer.send("Baik, kami tunggu")
    await officer.reply()
    await drain_outbox(bot.app, bot.rt)
    assert "Baik, kami tunggu" in (await sari.reply()).text
    with bot.rt.db.session() as s:
        rows = s.exec(select(ApplicationMessage).order_by(ApplicationMessage.id)).all()
    assert [(r.direction, r.citizen_id, r.attachment) for r in rows] == [
        ("to_office", CITIZEN, "photo"), ("to_citizen", CITIZEN, None),
        ("to_office", OTHER, None), ("to_citizen", OTHER, None),
    ]
    assert rows[0].officer_id == OFFICER and rows[2].officer_id is None
