"""Personal-data rights, flood control, audit export and bad chat input, through the emulator."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlmodel import select

from bot.core.models import AuditEntry, ConversationState, User
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue
from bot.people.conversations import set_state
from bot.people.roles import audit


def _document(bot, message) -> bytes:  # noqa: ANN001
    assert message.document is not None, message.describe()
    return bot.emulator.files[message.document["file_id"]].data


async def test_dataku_sends_everything_held_about_the_citizen(bot):
    citizen = bot.user(3001, language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    with bot.rt.db.session() as s:
        set_state(s, chat_id=3001, user_id=3001, flow="demo", step="name", data={"name": "Ani"})
        enqueue(s, chat_id=3001, text="Your KTP is ready")
        enqueue(s, chat_id=3002, text="not hers")
    await citizen.send("/mydata")
    sent = await citizen.reply()
    assert sent.document["file_name"] == "dataku-3001.json"
    assert "UU 27/2022" in sent.text
    data = json.loads(_document(bot, sent))
    assert data["telegram_id"] == 3001
    assert data["profile"]["profile"]["language"] == "en"
    assert data["conversations"]["items"][0]["data"] == {"name": "Ani"}
    assert [m["text"] for m in data["messages"]["items"]] == ["Your KTP is ready"]


async def test_hapusdata_asks_first_then_erases_and_says_what_was_kept(bot):
    citizen = bot.user(3003, language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    with bot.rt.db.session() as s:
        set_state(s, chat_id=3003, user_id=3003, flow="demo", step="x")
        enqueue(s, chat_id=3003, text="Pemberitahuan")
    await citizen.send("/hapusdata")
    ask = await citizen.reply()
    assert ask.labels == ["Ya, hapus data saya", "Tidak, simpan saja"]
    with bot.rt.db.session() as s:
        assert s.get(User, 3003) is not None  # nothing happens before the confirmation
    await citizen.click("Tidak, simpan saja")
    kept, menu = await citizen.replies(2)
    assert kept.edited and kept.text == "Tidak ada data yang dihapus."
    with bot.rt.db.session() as s:
        assert s.get(User, 3003) is not None
    await citizen.send("/hapusdata")
    await citizen.reply()
    await citizen.click("Ya, hapus data saya")
    done, report = await citizen.replies(2)
    assert done.text == "Data Anda telah dihapus."
    assert "Profil Anda (bahasa, waktu kontak pertama) telah dihapus." in report.text
    assert "Isian yang sedang Anda ketik telah dihapus." in report.text
    with bot.rt.db.session() as s:
        assert s.get(User, 3003) is None
        assert s.exec(select(ConversationState)).all() == []
        assert s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 3003)).all() == []
        erased = s.exec(select(AuditEntry).where(AuditEntry.action == "personal_data.erased"))
        # Someone was erased, never who (the line would point back at them).
        assert [(e.actor_id, e.subject) for e in erased.all()] == [(None, None)]


async def test_personal_data_commands_refuse_groups(bot):
    citizen = bot.user(3004)
    group = bot.group(-100500, "Warga")
    await citizen.send("/start")
    await citizen.reply()
    await group.send(citizen, "/dataku")
    answer = await group.reply()
    assert "obrolan pribadi" in answer.text
    assert answer.document is None


async def test_flood_control_one_notice_then_silence(make_bot, database_url):
    async with make_bot(database_url, flood_max_per_minute=3) as bot:
        citizen = bot.user(3005)
        for _ in range(3):
            await citizen.send("/help")
        await citizen.replies(3)
        await citizen.send("/help")
        notice = await citizen.reply()
        assert "tunggu satu menit" in notice.text
        for _ in range(3):
            await citizen.send("/help")
        await citizen.expect_silence(0.5)
        # Others are not slowed down by one flooding user.
        other = bot.user(3006)
        await other.send("/help")
        await other.reply()


async def test_admin_exports_the_audit_log_citizens_cannot(make_bot, database_url):
    async with make_bot(database_url, admin_ids=[3100]) as bot:
        with bot.rt.db.session() as s:
            audit(s, actor_id=3101, action="application.updated", subject="AB12CD", to="ready")
        citizen = bot.user(3102)
        await citizen.send("/audit")
        refused = await citizen.reply()
        assert refused.document is None and "/help" in refused.text
        admin = bot.user(3100)
        await admin.send("/audit 30")
        sent = await admin.reply()
        assert sent.document["file_name"].endswith(".xlsx")  # what a spreadsheet opens right
        sheet = load_workbook(io.BytesIO(_document(bot, sent))).active
        header, first = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
        assert header == ["id", "at", "actor_id", "api_token", "action", "subject", "detail"]
        assert sheet["B2"].is_date and sheet["C2"].value == 3101
        assert first[4:] == ["application.updated", "AB12CD", '{"to": "ready"}']
        await admin.send("/audit 30 csv")
        sent = await admin.reply()
        rows = list(csv.reader(io.StringIO(_document(bot, sent).decode())))
        assert rows[0] == ["id", "at", "actor_id", "api_token", "action", "subject", "detail"]
        assert rows[1][2:] == ["3101", "", "application.updated", "AB12CD", '{"to": "ready"}']
        await admin.send("/audit abc")
        usage = await admin.reply()
        assert "/audit 30" in usage.text


async def test_bad_chat_input_gets_a_clear_answer_and_stores_nothing(bot):
    citizen = bot.user(3007)
    await citizen.send("/start")
    await citizen.reply()
    with bot.rt.db.session() as s:
        before = len(s.exec(select(OutboxMessage)).all())
    for text in (" ", "x" * 4096, "syarat\x00\x07\x1b[31m ktp\u202e", "/hapusdata@other_bot"):
        await citizen.send(text)
        answer = await citizen.reply()
        assert answer.text
    # Forged and stale button data: told the button is not valid, nothing erased.
    for data in ("pd:erase:3008", "pd:erase ", "menu:\x00", "x" * 64):
        await citizen.forge_click(data)
        answer = await citizen.callback_answer()
        assert answer is not None and answer["show_alert"], data
    with bot.rt.db.session() as s:
        assert s.get(User, 3007) is not None
        assert len(s.exec(select(OutboxMessage)).all()) == before
