"""Application status end to end: admin, officer and citizen talking to the real bot."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import select

from bot.applications.api import create_api_app
from bot.applications.models import ApplicationFollower, LookupFailure
from bot.applications.service import get_application, history, register_application
from bot.applications.tracking import format_tracking_number, new_tracking_number
from bot.core.models import AuditEntry, utcnow
from bot.people.roles import role_of
from bot.people.staff import add_staff
from handlers.outbox_delivery import drain_outbox

ADMIN, OFFICER, CITIZEN = 1, 2, 3


def _receipt(text: str) -> tuple[str, str]:
    number = re.search(r"registrasi: ([0-9A-Z]{4}-[0-9A-Z]{4})", text).group(1)
    code = re.search(r"verifikasi: (\d{6})", text).group(1)
    return number, code


async def _hello(user) -> None:
    await user.send("/start")
    await user.reply()


async def test_from_counter_to_citizen_through_every_status(make_bot, database_url):
    bot = await make_bot(database_url, admin_ids=[ADMIN])
    admin, officer = bot.user(ADMIN), bot.user(OFFICER, "Dewi")
    citizen = bot.user(CITIZEN, language_code="en")

    # The admin invites an officer with a one-time code.
    await admin.send("/officer invite")
    invite = await admin.reply()
    code = re.search(r"INV[0-9A-Z]{10}", invite.text).group(0)
    await officer.send(f"/start {code}")
    welcome = await officer.reply()
    assert "petugas" in welcome.text
    await officer.expect_silence()  # not the citizens' welcome on top
    await citizen.send(f"/start {code}")  # used up: no role for anyone else
    assert "unknown, used or expired" in (await citizen.reply()).text
    await admin.send("/officer list")
    listing = (await admin.reply()).text
    assert f"Dewi · {OFFICER}: petugas" in listing  # by name, as colleagues know her
    assert f"{CITIZEN}:" not in listing

    # The officer registers an application with the guided form.
    await officer.send("/register")
    form = await officer.reply()
    assert bot.rt.knowledge.services["ktp-el"].name("id") in form.labels
    await officer.click("rg:s:ktp-el")
    await officer.replies(2)  # the form message edited, then the name question
    await officer.send("Siti <Aminah>")
    await officer.reply()
    await officer.click("Tanpa nomor telepon")
    receipt, qr = await officer.replies(2)  # the receipt, then its link as a QR code
    number, code = _receipt(receipt.text)
    assert qr.photo and number in qr.text
    assert "Siti <Aminah>" in receipt.text

    # The citizen looks it up in two steps and follows it.
    await citizen.send("/status")
    prompt = await citizen.reply()
    assert "tracking number" in prompt.text
    await citizen.send(number.lower())
    await citizen.reply()
    await citizen.send(code)
    card = await citizen.reply()
    assert "Electronic ID card" in card.text
    assert "Status: Received" in card.text
    assert "on time" in card.text
    _, follow = citizen._find_button("🔔 Follow this application", card)
    await citizen.click("🔔 Follow this application")
    assert "every change" in (await citizen.callback_answer())["text"]
    await citizen.reply()  # the card's button becomes "Stop following"
    # Pressed again before the phone showed the change (or handled again after a takeover):
    # the card already shows it; no error, no apology.
    await citizen.forge_click(follow, card)
    assert "every change" in (await citizen.callback_answer())["text"]
    await citizen.expect_silence(0.3)

    # The officer moves it along; each change reaches the citizen, in English.
    steps = [
        ("Sedang diproses", "Berkas <lengkap> & benar", "In process"),
        ("Siap diambil", None, "Ready for pickup"),
        ("Selesai", None, "Completed"),
    ]
    for label, note, english in steps:
        await officer.send(f"/update {number}")
        await officer.reply()
        await officer.click(f"➡️ {label}")
        await officer.reply()
        if note:
            await officer.send(note)
        else:
            await officer.click("Tanpa catatan")
        done = await officer.reply()
        assert f"sekarang {label}" in done.text
        assert "1 pengikut" in done.text
        await drain_outbox(bot.app, bot.rt)
        notice = await citizen.reply()
        assert f"Status: {english}" in notice.text
        assert number in notice.text
        if note:
            assert note in notice.text
            assert "Berkas &lt;lengkap&gt; &amp; benar" in notice.html
        if english == "Ready for pickup":
            assert "Counter 4 (ID card collection)" in notice.text
            assert "your receipt" in notice.text
            assert "original ID card" not in notice.text  # a first KTP: the citizen has none

    await officer.send(f"/update {number}")
    assert "tidak dapat diubah lagi" in (await officer.reply()).text
    await citizen.send("/status")
    followed = await citizen.reply()
    assert number in followed.text
    assert "Completed" in followed.text
    with bot.rt.db.session() as s:
        application = get_application(s, number)
        assert [e.status for e in history(s, application)] == [
            "received", "in_process", "ready_for_pickup", "completed"
        ]
        assert {e.actor_id for e in history(s, application)} == {OFFICER}


async def test_wrong_codes_lock_out_and_say_nothing_about_numbers(make_bot, database_url):
    bot = await make_bot(database_url)
    with bot.rt.db.session() as s:
        application = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Budi", actor_id=OFFICER
        )
    citizen = bot.user(CITIZEN)
    unknown = format_tracking_number(new_tracking_number())
    answers = []
    for attempt in range(4):
        number = unknown if attempt % 2 else application.display_number
        await citizen.send(f"/cekstatus {number} 000000")
        answers.append((await citizen.reply()).text)
    assert len(set(answers)) == 1  # a wrong code and an unknown number read the same
    assert "tidak sesuai" in answers[0]
    await citizen.send(f"/cekstatus {unknown} 111111")
    assert "Terlalu banyak percobaan" in (await citizen.reply()).text
    await citizen.send(f"/cekstatus {application.display_number} {application.verification_code}")
    assert "Terlalu banyak percobaan" in (await citizen.reply()).text
    # Another citizen is not locked out.
    other = bot.user(CITIZEN + 1)
    await other.send(f"/cekstatus {application.display_number} {application.verification_code}")
    assert "Budi" not in (card := await other.reply()).text
    assert application.display_number in card.text


async def test_a_citizen_cannot_use_officer_commands(make_bot, database_url):
    bot = await make_bot(database_url)
    with bot.rt.db.session() as s:
        application = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Budi", actor_id=OFFICER
        )
    citizen = bot.user(CITIZEN)
    await citizen.send("/perintahngawur")
    unknown = (await citizen.reply()).text
    for command in (
        "/register",
        f"/update {application.display_number}",
        "/find Budi",
        "/overdue",
        f"/officer add {CITIZEN} supervisor",
        "/officer list",
        "/outbox",
    ):
        await citizen.send(command)
        assert (await citizen.reply()).text == unknown, command
    # Forged buttons: an officer's status button, a follow without the code.
    for data in (
        f"up:{application.tracking_number}:completed",
        f"st:fo:{application.id}:000000000000",
        "rg:s:ktp-el",
    ):
        await citizen.forge_click(data)
        answer = await citizen.callback_answer()
        assert answer["show_alert"] is True
    with bot.rt.db.session() as s:
        assert get_application(s, application.tracking_number).status == "received"
        assert s.exec(select(ApplicationFollower)).all() == []
        assert role_of(s, CITIZEN) == "citizen"


async def test_bulk_csv_with_good_and_bad_rows(make_bot, database_url):
    bot = await make_bot(database_url)
    with bot.rt.db.session() as s:
        add_staff(s, telegram_id=OFFICER, role="officer", actor_id=ADMIN)
        first = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Ani", actor_id=OFFICER
        )
        second = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Budi", actor_id=OFFICER
        )
    officer = bot.user(OFFICER)
    data = (
        "tracking_number,status,note\n"
        f"{first.display_number},in_process,\n"
        f"{second.display_number},rejected,\n"
        "K7QM-3XP,completed,\n"
        f"{second.display_number},needs_correction,Pas foto <3x4> kurang\n"
    ).encode()
    await officer.send_document("status.csv", data)
    report = (await officer.reply()).text
    assert "2 baris diterapkan" in report
    assert "2 baris ditolak" in report
    assert "Baris 3: Status ditolak wajib disertai catatan" in report
    assert "Baris 4: K7QM-3XP bukan nomor registrasi yang valid" in report
    with bot.rt.db.session() as s:
        assert get_application(s, first.tracking_number).status == "in_process"
        assert get_application(s, second.tracking_number).status == "needs_correction"

    await officer.send_document("foto.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", mime="image/png")
    assert "bukan berkas teks CSV" in (await officer.reply()).text
    await officer.send_document("lain.csv", b"nomor,keadaan\nA,B\n")
    assert "tracking_number,status,note" in (await officer.reply()).text
    # A citizen's document is not an officer's bulk update.
    citizen = bot.user(CITIZEN)
    await citizen.send_document("status.csv", data)
    assert "baris" not in (await citizen.reply()).text


async def test_the_menu_button_and_one_message_lookup(make_bot, database_url):
    bot = await make_bot(database_url)
    with bot.rt.db.session() as s:
        application = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Ani", actor_id=OFFICER
        )
    citizen = bot.user(CITIZEN)
    await _hello(citizen)
    await citizen.click("menu:status")
    prompt = await citizen.reply()
    assert "Kirim nomor registrasi dan kode verifikasi" in prompt.text
    await citizen.send(f"{application.display_number} {application.verification_code}")
    card = await citizen.reply()
    assert "Status: Diterima" in card.text
    await citizen.click("🔔 Ikuti permohonan ini")
    await citizen.callback_answer()
    await citizen.reply()
    # A forged "show" for an application this user does not follow changes nothing.
    await citizen.forge_click(f"st:sh:{application.id + 1}")
    assert (await citizen.callback_answer())["show_alert"] is True
    await citizen.click("menu:status")
    listing = await citizen.reply()
    assert application.display_number in listing.text
    await citizen.click(application.display_number)
    await citizen.callback_answer()
    assert "Riwayat" in (await citizen.reply()).text
    await citizen.click("🔕 Berhenti mengikuti")
    assert "tidak lagi mengikuti" in (await citizen.callback_answer())["text"]
    with bot.rt.db.session() as s:
        assert s.exec(select(ApplicationFollower)).all() == []


async def test_status_is_not_answered_in_a_group(make_bot, database_url):
    bot = await make_bot(database_url)
    citizen = bot.user(CITIZEN)
    group = bot.group(-555, "Warga")
    await group.send(citizen, "/cekstatus K7QM-3XPA 123456")
    answer = await group.reply()
    assert "Ketik /help" in answer.text


async def test_officer_finds_and_lists_overdue(make_bot, database_url):
    bot = await make_bot(database_url)
    long_ago = utcnow() - timedelta(days=40)
    with bot.rt.db.session() as s:
        add_staff(s, telegram_id=OFFICER, role="officer", actor_id=ADMIN)
        older = register_application(
            s, bot.rt, service_id="paspor", applicant_name="Ani Lestari", actor_id=OFFICER,
            now=long_ago,
        )
        late = register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Budi", actor_id=OFFICER,
            now=long_ago + timedelta(days=5),
        )
        register_application(
            s, bot.rt, service_id="ktp-el", applicant_name="Citra", actor_id=OFFICER
        )
    officer = bot.user(OFFICER)
    await officer.send("/find lestari")
    found = (await officer.reply()).text
    assert older.display_number in found
    assert older.verification_code in found
    assert "Budi" not in found
    await officer.send("/overdue")
    overdue = (await officer.reply()).text
    assert overdue.index(older.display_number) < overdue.index(late.display_number)
    assert "Citra" not in overdue
    assert "melewati batas waktu" in overdue
    with bot.rt.db.session() as s:
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "application.find")).one()
    assert (audit.actor_id, audit.subject) == (OFFICER, "lestari")


async def test_the_back_office_api_reaches_followers_only_with_a_token(make_bot, database_url):
    token = "back-office-token-0123456789abcdef"
    bot = await make_bot(database_url, api_tokens=[token])
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_api_app(bot.rt)), base_url="http://office"
    )
    async with api:
        created = await api.post(
            "/api/v1/applications",
            json={"service_id": "ktp-el", "applicant_name": "Eko"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
        number, code = created.json()["tracking_number"], created.json()["verification_code"]
        # The receipt's link, as the chat's /register prints it: one press opens and follows.
        link = created.json()["status_link"]
        assert link == (f"https://t.me/servicebot_test_bot?start=st_{number.replace('-', '')}"
                        f"_{code}")
        citizen = bot.user(CITIZEN)
        await citizen.send("/start " + link.split("?start=", 1)[1])
        opened = await citizen.reply()
        assert number in opened.text and "mengikuti" in opened.text
        url = f"/api/v1/applications/{number}/status"
        refused = await api.post(url, json={"status": "in_process"})
        assert refused.status_code == 401
        await drain_outbox(bot.app, bot.rt)
        await citizen.expect_silence()
        moved = await api.post(
            url, json={"status": "in_process"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert moved.status_code == 200
    await drain_outbox(bot.app, bot.rt)
    assert "Status: Sedang diproses" in (await citizen.reply()).text


async def test_a_question_typed_at_the_status_prompt_is_answered(make_bot, database_url):
    bot = await make_bot(database_url)
    citizen = bot.user(CITIZEN)
    await citizen.send("/cekstatus")
    await citizen.reply()
    await citizen.send("berapa biaya bikin paspor?")
    answer = await citizen.reply()
    assert "Rp350.000" in answer.text  # the fee answer, not a refused lookup
    with bot.rt.db.session() as s:
        assert s.exec(select(LookupFailure)).all() == []
