"""Following an application end to end (issue 19): numbers typed as people copy them, a wrong
entry kept in the lookup, the receipt's link and QR code, following by a shared phone number."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.applications.links import qr_png
from bot.applications.models import Application, ApplicationFollower, LookupFailure
from bot.applications.service import change_status, get_application, register_application
from bot.people.staff import add_staff
from bot.surveys.models import SurveyInvitation
from handlers.outbox_delivery import drain_outbox

ADMIN, OFFICER, CITIZEN, OTHER = 1, 2, 3, 4
BOT_USERNAME = "servicebot_test_bot"  # the emulator's


def _as_copied(number: str) -> str:
    """A tracking number as someone copies it from paper: small letters, a space in the
    middle, O for 0 and l for 1."""
    text = f"{number[:4]} {number[4:]}".lower()
    return text.replace("0", "o").replace("1", "l")


def _register(bot, service_id="ktp-el", phone=None, name="Ani") -> Application:
    with bot.rt.db.session() as s:
        return register_application(
            s, bot.rt, service_id=service_id, applicant_name=name, phone=phone, actor_id=OFFICER
        )


def _mistyped(number: str) -> str:
    """The number with its check character changed: one wrong character is always caught."""
    return number[:-1] + ("2" if number[-1] != "2" else "3")


async def test_a_number_copied_from_paper_is_read_and_a_wrong_entry_stays_in_the_lookup(
    bot_sqlite,
):
    bot = bot_sqlite
    application = _register(bot)
    number, code = application.tracking_number, application.verification_code
    sari = bot.user(CITIZEN)

    await sari.send("/cekstatus")
    prompt = await sari.reply()
    assert "📱 Cari milik saya lewat nomor HP" in prompt.labels and "✖️ Batal" in prompt.labels
    await sari.send(_as_copied(_mistyped(number)))
    wrong = await sari.reply()
    assert "tidak menemukan nomor registrasi" in wrong.text
    assert "✖️ Batal" in wrong.labels  # a way out, and the lookup is still open:
    await sari.send(_as_copied(number))
    ask = await sari.reply()
    assert f"{number[:4]}-{number[4:]}" in ask.text
    assert "6 angka kode verifikasi" in ask.text
    await sari.send("12345")
    assert "terdiri dari 6 angka" in (await sari.reply()).text
    await sari.send("000000" if code != "000000" else "111111")
    refused = await sari.reply()
    assert "tidak sesuai" in refused.text and "Kirim lagi nomor dan kodenya" in refused.text
    await sari.send(f"{_as_copied(number).replace(' ', '.')} {code[:3]} {code[3:]}")
    card = await sari.reply()
    assert "Status: Diterima" in card.text
    assert "🔔 Ikuti permohonan ini" in card.labels

    # The way out closes the lookup: what comes next is read as a question again.
    await sari.send("/cekstatus")
    await sari.reply()
    await sari.send("abc 12")
    await sari.reply()
    await sari.click("✖️ Batal")
    closed = await sari.replies(2)  # the buttons go from the prompt, then the word
    assert "Ditutup" in closed[-1].text
    await sari.send("berapa biaya bikin paspor?")
    assert "Rp350.000" in (await sari.reply()).text

    # In English, and outside the lookup: a number typed in a sentence is still a lookup.
    ben = bot.user(OTHER, language_code="en")
    await ben.send(f"hello, my number is {number[:4]}-{number[4:]} and the code {code}")
    card = await ben.reply()
    assert "Status: Received" in card.text
    await ben.send(f"cek status {_as_copied(number)}")
    assert "Now send the 6-digit verification code" in (await ben.reply()).text
    await ben.send("code 12345")
    assert "The verification code has 6 digits" in (await ben.reply()).text
    await ben.send("how much is a passport?")  # a question: answered, the lookup left
    assert "Rp350,000" in (await ben.reply()).text
    await ben.send("/status")
    await ben.reply()
    await ben.send("pfvy qgxx")  # no number, no question: a try, kept in the lookup
    wrong = await ben.reply()
    assert "I cannot read a tracking number" in wrong.text
    assert "✖️ Cancel" in wrong.labels
    with bot.rt.db.session() as s:
        assert len(s.exec(select(LookupFailure)).all()) == 1  # only the wrong code counted


async def test_the_receipts_link_follows_in_one_press_then_notices_and_the_survey_come(
    make_bot, database_url
):
    bot = await make_bot(database_url)
    with bot.rt.db.session() as s:
        add_staff(s, telegram_id=OFFICER, role="officer", actor_id=ADMIN)
    officer = bot.user(OFFICER)
    await officer.send("/register")
    await officer.reply()
    await officer.click("rg:s:ktp-el")
    await officer.replies(2)
    await officer.send("Siti Aminah")
    await officer.reply()
    await officer.send("0812-3456-7890")
    receipt, qr = await officer.replies(2)
    number = re.search(r"registrasi: ([0-9A-Z]{4})-([0-9A-Z]{4})", receipt.text).group(1, 2)
    code = re.search(r"verifikasi: (\d{6})", receipt.text).group(1)
    payload = f"st_{''.join(number)}_{code}"
    link = f"https://t.me/{BOT_USERNAME}?start={payload}"
    assert link in receipt.text
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)  # what Telegram takes
    assert "Telepon: +6281234567890" in receipt.text  # the number in one form
    # The QR code is the link's: the image the officer got is the one segno makes of it.
    assert bot.emulator.files[qr.photo[-1]["file_id"]].data == qr_png(link)
    assert f"{number[0]}-{number[1]}" in qr.text

    # One press on the link: the status, already followed; no welcome on top.
    citizen = bot.user(CITIZEN, language_code="en")
    await citizen.send(f"/start {payload}")
    card = await citizen.reply()
    assert "Status: Received" in card.text
    assert "You now follow this application" in card.text
    assert "🔕 Stop following" in card.labels
    await citizen.expect_silence()
    # A link with another code is a wrong code: refused, counted, the lookup open.
    other = bot.user(OTHER)
    await other.send(f"/start st_{''.join(number)}_{'1' if code[0] != '1' else '2'}{code[1:]}")
    refused = await other.reply()
    assert "tidak sesuai" in refused.text and "✖️ Batal" in refused.labels
    await other.expect_silence()

    # The officer sees who reads the note, then completes it: the notice and the survey reach
    # the citizen who never pressed Follow.
    await officer.send(f"/update {''.join(number)}")
    await officer.reply()
    await officer.click("➡️ Selesai")
    ask_note = await officer.reply()
    assert "1 pengikut akan membacanya, dalam bahasa Inggris" in ask_note.text
    await officer.click("Tanpa catatan")
    await officer.reply()
    await drain_outbox(bot.app, bot.rt)
    assert "Status: Completed" in (await citizen.reply()).text
    with bot.rt.db.session() as s:
        application = get_application(s, "".join(number))
        assert application.phone == "+6281234567890"
        invitations = s.exec(select(SurveyInvitation)).all()
        assert [(i.user_id, i.application_id) for i in invitations] == [(CITIZEN, application.id)]
        assert [f.user_id for f in s.exec(select(ApplicationFollower)).all()] == [CITIZEN]
        assert [f.user_id for f in s.exec(select(LookupFailure)).all()] == [OTHER]


async def test_a_shared_contact_offers_what_was_registered_with_that_number(
    make_bot, database_url
):
    bot = await make_bot(database_url)
    ktp = _register(bot, "ktp-el", phone="0812 3456 7890")
    passport = _register(bot, "paspor", phone="+62 812-3456-7890")
    someone_else = _register(bot, "skck", phone="081299999999")
    finished = _register(bot, "kia", phone="6281234567890")
    with bot.rt.db.session() as s:
        for status in ("in_process", "ready_for_pickup", "completed"):
            change_status(s, bot.rt, tracking_number=finished.tracking_number, status=status,
                          actor_id=OFFICER)
    citizen = bot.user(CITIZEN)
    await citizen.send("/cekstatus")
    await citizen.reply()
    await citizen.click("📱 Cari milik saya lewat nomor HP")
    ask = await citizen.reply()
    assert ask.keyboard == ["📱 Bagikan nomor HP saya", "Nanti saja"]
    assert ask.reply_markup["keyboard"][0][0]["request_contact"] is True

    # Someone else's contact proves nothing.
    await citizen.send_contact("6281234567890", own=False, contact_user_id=OTHER)
    refused = await citizen.reply()
    assert "kontak orang lain" in refused.text
    assert "📱 Bagikan nomor HP saya" in refused.keyboard
    await citizen.send_contact("6281234567890")
    thanks, offer = await citizen.replies(2)
    assert "+6281234567890" in thanks.text
    assert thanks.reply_markup == {"remove_keyboard": True}
    assert "2 permohonan" in offer.text
    for shown in (ktp, passport):
        assert shown.display_number in offer.text
    for hidden in (someone_else, finished):
        assert hidden.display_number not in offer.text
    assert f"🔔 Ikuti {ktp.display_number}" in offer.labels
    await citizen.click("🔔 Ikuti semua")
    answer = await citizen.callback_answer()
    assert ktp.display_number in answer["text"] and passport.display_number in answer["text"]
    assert (await citizen.reply()).buttons == []  # the offer's buttons are used up
    with bot.rt.db.session() as s:
        followed = {f.application_id for f in s.exec(select(ApplicationFollower)).all()}
        assert followed == {ktp.id, passport.id}
        change_status(s, bot.rt, tracking_number=ktp.tracking_number, status="in_process",
                      actor_id=OFFICER)
    await drain_outbox(bot.app, bot.rt)
    notice = await citizen.reply()
    assert ktp.display_number in notice.text and "Sedang diproses" in notice.text

    # In English: a number nothing was registered with; "Not now" takes the keyboard away.
    ben = bot.user(OTHER, language_code="en")
    await ben.send("/status")
    await ben.reply()
    await ben.click("📱 Find mine by phone number")
    assert "📱 Share my phone number" in (await ben.reply()).keyboard
    await ben.send_contact("+44 7700 900123")
    thanks, none, prompt = await ben.replies(3)
    assert "+447700900123" in thanks.text
    assert "No unfinished application is registered with this number" in none.text
    assert "Send the tracking number and the verification code" in prompt.text
    await ben.click("📱 Find mine by phone number")
    await ben.reply()
    await ben.send("Not now")
    gone = await ben.reply()
    assert gone.text == "OK, no phone number." and gone.reply_markup == {"remove_keyboard": True}
    await ben.expect_silence()
