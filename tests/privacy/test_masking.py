"""NIKs and phone numbers in a complaint reach staff masked: the group's post, the officer's
view, additions, the console's page and the export. The officer who took the ticket (or a
supervisor over its unit) may press "show": the whole text comes to their private chat only,
and the audit trail records it; anyone else, and forged presses, see nothing."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from bot.cli import main
from bot.core.models import AuditEntry, Staff, utcnow
from bot.privacy.identity import Identity
from bot.privacy.masking import has_numbers, mask_numbers
from tests.support.complaints import file_in_chat
from tests.support.console import signed_in, start_console

GROUP = -100900
CITIZEN = 5301
OFFICER, OFFICER_B, SUPERVISOR, SUPERVISOR_ELSEWHERE = 2001, 2002, 3001, 3002
NIK = "3174012345678901"
PHONE = "0812-9876-5432"
STORY = f"Saya dimintai uang di loket tiga. NIK saya {NIK}, hubungi {PHONE}."
SHOW = "👁 Tampilkan NIK dan nomor telepon"


def test_masking_rules():
    assert mask_numbers(f"NIK {NIK} dan 3174 0123 4567 8901") == (
        "NIK 3174********8901 dan 3174********8901"
    )
    assert mask_numbers("wa +62 812-9876-5432 ok") == "wa +628*******432 ok"
    # Dates, money and ticket numbers stay readable.
    kept = "Pada 17/08/2026 jam 10.30 saya bayar Rp50.000 (tiket ADU-7K3M9Q, 12345678)"
    assert mask_numbers(kept) == kept and not has_numbers(kept)


def test_what_an_erasure_takes_out_of_a_kept_text():
    person = Identity(7310458826)
    person.add_name("O'Neil \u202eSanto")  # a name with a bidi override, as Telegram allows
    person.add_numbers_from("hp 0812 9876 5432")
    kept = person.redact(
        "Dari: O&#x27;Neil Santo (Bernama) · NIK 3174********8901 · 0812*****432 · "
        "0812 9876 5432 · 3174 0123 4567 8901 · santo · chat 7310458826 · 17310458826"
    )
    assert kept == (
        "Dari: [name] (Bernama) · NIK [NIK] · [phone] · [phone] · [NIK] · [name] · chat [id] · "
        "17310458826"
    )


async def test_staff_read_numbers_masked_and_only_the_handler_may_show_them(
    make_bot, database_url
):
    bot = await make_bot(database_url, complaints_chat_id=GROUP)
    rt = bot.rt
    with rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=OFFICER_B, role="officer", unit="Dukcapil"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor", unit="Dukcapil"))
        s.add(Staff(telegram_id=SUPERVISOR_ELSEWHERE, role="supervisor", unit="Perizinan"))
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, first_name="Sari")
    staff = {i: bot.user(i, first_name=f"Staff {i}") for i in
             (OFFICER, OFFICER_B, SUPERVISOR, SUPERVISOR_ELSEWHERE)}
    for user in (citizen, *staff.values()):
        await user.send("/start")
        await user.reply()

    await file_in_chat(citizen, STORY, "named")
    post = await group.reply(timeout=8)
    assert NIK not in post.text and PHONE not in post.text
    assert "NIK saya 3174********8901, hubungi 0812*****432." in post.text
    assert SHOW in post.labels

    # Nobody has taken it: an officer who may handle it still may not see the numbers.
    officer, other = staff[OFFICER], staff[OFFICER_B]
    await other.click(SHOW, post)
    refused = await other.callback_answer()
    assert refused["show_alert"] and "Hanya petugas yang menangani tiket ini" in refused["text"]
    await citizen.click(SHOW, post)  # not staff: the button means nothing to them
    assert "sudah tidak berlaku" in (await citizen.callback_answer())["text"]

    await officer.click("🙋 Ambil", post)
    await officer.callback_answer()
    await citizen.reply(timeout=8)
    await group.reply()  # the post says who took it
    await officer.click(SHOW, post)
    told = await officer.callback_answer()
    assert told["text"] == "Dikirim ke obrolan pribadi Anda; tampilan ini dicatat."
    full = await officer.reply()
    assert NIK in full.text and PHONE in full.text and full.chat_id == OFFICER
    await group.expect_silence()
    await other.click(SHOW, post)
    assert "Hanya petugas" in (await other.callback_answer())["text"]
    await other.expect_silence()
    # A supervisor over the ticket's unit may; one over another unit may not.
    await staff[SUPERVISOR].click(SHOW, post)
    await staff[SUPERVISOR].callback_answer()
    assert NIK in (await staff[SUPERVISOR].reply()).text
    await staff[SUPERVISOR_ELSEWHERE].click(SHOW, post)
    assert "Hanya petugas" in (await staff[SUPERVISOR_ELSEWHERE].callback_answer())["text"]
    # Forged presses: malformed, or an id past BIGINT.
    for data in ("cs:show:99999999999999999999", "cs:show:x", "cs:show", "cs:show:1:2"):
        await officer.forge_click(data, post)
        assert "sudah tidak berlaku" in (await officer.callback_answer())["text"], data
    with rt.db.session() as s:
        reveals = s.exec(
            select(AuditEntry.actor_id).where(AuditEntry.action == "complaint.revealed")
        ).all()
    assert sorted(reveals) == [OFFICER, SUPERVISOR]

    # The officer's own view of the ticket, and what the citizen adds later: masked too.
    complaint_ticket = post.text.split("Tiket: ")[1].split(" ")[0]
    await officer.send(f"/tiket {complaint_ticket}")
    card = await officer.reply()
    assert NIK not in card.text and "3174********8901" in card.text and SHOW in card.labels
    await citizen.send(f"/tiket {complaint_ticket}")
    mine = await citizen.reply()
    assert NIK in mine.text  # the complainant reads their own words as written
    await citizen.click("✍️ Tambah keterangan", mine)
    await citizen.reply()
    await citizen.send("Nomor istri saya 0813-1111-2222 juga bisa dihubungi.")
    await citizen.reply()
    addition = await officer.reply(timeout=8)
    assert "0813-1111-2222" not in addition.text and "0813*****222" in addition.text


async def test_console_page_and_export_show_numbers_masked(
    make_bot, database_url, tmp_path, monkeypatch
):
    from tests.support.console import OFFICER as UNIT_OFFICER
    from tests.support.console import complaint

    bot = await start_console(make_bot, database_url)
    ticket = complaint(bot, description=STORY)
    client = await signed_in(bot, UNIT_OFFICER)
    try:
        page = await client.get(f"/console/complaints/{ticket.id}")
    finally:
        await client.aclose()
    assert page.status_code == 200
    assert NIK not in page.text and PHONE not in page.text and "3174********8901" in page.text

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(bot.rt.settings.knowledge_dir))
    today = utcnow().astimezone(bot.rt.tz).date().isoformat()
    out = tmp_path / "complaints.csv"
    assert main(["complaints", "export", today, today, "-o", str(out)]) == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["description"] == mask_numbers(STORY) and NIK not in row["description"]
