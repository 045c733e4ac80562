"""End to end: unanswered questions logged and listed, 👍/👎, "Tanya petugas" to the officers'
group and the officer's answer back, the weekly digest, the gaps CSV and personal data."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import select

from bot.cli import main
from bot.core.models import Staff
from bot.feedback.models import OfficerQuestion, QuestionAsk, UnansweredQuestion
from bot.outbox.models import OutboxMessage
from handlers.feedback import queue_digest

GROUP = -100888
CITIZEN, CITIZEN_EN, OTHER, OFFICER, OFFICER_UNIT, ADMIN = 1101, 1102, 1103, 2101, 2102, 9101
# Wednesday 2 December 2026, 10:00 in Jakarta: the office is open.
OPEN = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
# Saturday 5 December 2026, 10:00 in Jakarta: closed until Monday 7 December, 08:00.
CLOSED = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
NOT_UNDERSTOOD = "boleh bawa kucing ke dalam gedung?"


async def _desk(make_bot, database_url, clock: datetime):  # noqa: ANN001, ANN202
    bot = await make_bot(database_url, officers_chat_id=GROUP, admin_ids=[ADMIN])
    bot.rt.clock = lambda: clock
    with bot.rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer"))
        s.add(Staff(telegram_id=OFFICER_UNIT, role="officer", unit="kependudukan"))
    return bot


async def _hello(*users) -> None:  # noqa: ANN002
    for user in users:
        await user.send("/start")
        await user.reply()


def _rows(bot, model) -> list:  # noqa: ANN001
    with bot.rt.db.session() as s:
        return list(s.exec(select(model).order_by(model.id)).all())


async def test_thumbs_down_then_ask_an_officer_who_replies_in_the_group(make_bot, database_url):
    bot = await _desk(make_bot, database_url, OPEN)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, first_name="Sari", language_code="id")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    other = bot.user(OTHER, language_code="id")
    await _hello(citizen, officer, other)

    await citizen.send("berapa biaya paspor elektronik?")
    answer = await citizen.reply()
    assert answer.text.startswith("Paspor · Biaya")
    assert answer.labels[-2:] == ["👍", "👎"]
    assert _rows(bot, UnansweredQuestion) == []  # an answer is no gap until rated 👎

    # Someone else's rating button, forged: refused, nothing counted.
    ask = _rows(bot, QuestionAsk)[-1]
    await other.forge_click(f"qo:dn:{ask.id}", answer)
    refused = await other.callback_answer()
    assert refused["show_alert"] and "sudah tidak berlaku" in refused["text"]

    await citizen.click("👎", answer)
    noted = await citizen.callback_answer()
    assert noted["text"] == "Terima kasih. Kami catat bahwa jawaban ini belum membantu."
    edited = await citizen.reply()
    assert edited.edited and "👍" not in edited.labels
    assert edited.labels[-1] == "🙋 Tanya petugas"
    await citizen.forge_click(f"qo:dn:{ask.id}", edited)  # a double press counts once
    assert "sudah menilai" in (await citizen.callback_answer())["text"]
    [logged] = _rows(bot, UnansweredQuestion)
    assert (logged.count, logged.rated_down, logged.service_id) == (1, 1, "paspor")

    await citizen.click("🙋 Tanya petugas", edited)
    without_button, told = await citizen.replies(2)
    assert without_button.edited and "🙋 Tanya petugas" not in without_button.labels
    assert "sudah diteruskan ke petugas kami" in told.text
    assert "Kantor sedang buka" in told.text
    post = await group.reply(timeout=8)
    assert "Warga bertanya kepada petugas" in post.text and "Layanan: Paspor" in post.text
    assert "berapa biaya paspor elektronik?" in post.text
    assert post.labels == ["💬 Jawab"]
    await citizen.forge_click(f"qo:ask:{ask.id}", told)  # the same question twice: one post
    assert "sudah diteruskan" in (await citizen.callback_answer())["text"]

    # A citizen's reply in the group is no answer; an officer's is.
    await group.send(other, "saya juga mau tahu", reply_to=post)
    await group.send(officer, "Paspor elektronik 48 halaman Rp650.000.", reply_to=post)
    confirmed = await group.reply()
    assert confirmed.text.startswith("✅ Terkirim ke warga")
    back = await citizen.reply(timeout=8)
    assert back.text.startswith("💬 Petugas menjawab pertanyaan Anda")
    assert "berapa biaya paspor elektronik?" in back.text
    assert "Paspor elektronik 48 halaman Rp650.000." in back.text
    await other.expect_silence()
    [handed] = _rows(bot, OfficerQuestion)
    assert (handed.status, handed.officer_id) == ("answered", OFFICER)
    assert handed.question_id == logged.id
    assert handed.answer == "Paspor elektronik 48 halaman Rp650.000."

    # The exchange stays with the question in the staff's list.
    await officer.send("/belumterjawab")
    listing = await officer.reply()
    assert "Pertanyaan yang belum terjawab, 30 hari terakhir" in listing.text
    assert "1× berapa biaya paspor elektronik?" in listing.text
    assert "Jawaban petugas: Paspor elektronik 48 halaman Rp650.000." in listing.text
    # The whole list as a file: XLSX (typed cells) or CSV, under the list.
    assert listing.labels == ["📊 XLSX", "📄 CSV"]
    await officer.click("📊 XLSX", listing)
    sent = await officer.reply()
    assert sent.document["file_name"].startswith("belum-terjawab-30-hari-")
    assert sent.text == "1 pertanyaan belum terjawab, 30 hari terakhir"
    book = load_workbook(io.BytesIO(bot.emulator.files[sent.document["file_id"]].data))
    header, row = list(book.active.iter_rows(values_only=True))
    assert row[header.index("question")] == "berapa biaya paspor elektronik?"
    assert row[header.index("service")] == "Paspor"
    assert row[header.index("asked_in_period")] == 1  # a number, not text
    await officer.click("📄 CSV", listing)
    sent = await officer.reply()
    table = list(csv.DictReader(io.StringIO(
        bot.emulator.files[sent.document["file_id"]].data.decode("utf-8"))))
    assert [r["question"] for r in table] == ["berapa biaya paspor elektronik?"]
    # Not staff: the list, and its buttons forged, are refused.
    await other.send("/belumterjawab")
    assert "Perintah itu tidak saya kenal" in (await other.reply()).text
    await other.forge_click("gq:xlsx:30", listing)
    await other.callback_answer()
    await other.expect_silence()
    for forged in ("gq:xlsx:0", "gq:pdf:30", "gq:csv:99999", "gq:csv:x"):
        await officer.forge_click(forged, listing)
        assert (await officer.callback_answer())["show_alert"]
    await officer.expect_silence()


async def test_not_understood_out_of_hours_answered_with_the_button_in_english(
    make_bot, database_url
):
    bot = await _desk(make_bot, database_url, CLOSED)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN_EN, first_name="John", language_code="en")
    officer = bot.user(OFFICER, first_name="Budi", language_code="id")
    other = bot.user(OTHER, language_code="en")
    await _hello(citizen, officer, other)

    await citizen.send(
        "My name is John Smith, NIK 3201234567890123, phone 0812-3456-7890: "
        "can I bring my cat inside?"
    )
    sorry = await citizen.reply()
    assert sorry.text.startswith("Sorry, I am not sure")
    assert sorry.labels[-1] == "🙋 Ask an officer"
    [logged] = _rows(bot, UnansweredQuestion)
    assert logged.count == 1 and logged.rated_down == 0
    for secret in ("John", "Smith", "3201234567890123", "7890"):
        assert secret not in logged.text
    assert "[name]" in logged.text and "[NIK]" in logged.text and "[phone]" in logged.text

    await citizen.click("🙋 Ask an officer")
    _edited, told = await citizen.replies(2)
    assert "The office is closed now: expect an answer after it opens on Monday, " \
        "7 December 2026 08:00." in told.text
    post = await group.reply(timeout=8)
    assert "Tidak tentang satu layanan tertentu" in post.text
    assert "3201234567890123" not in post.text and "[NIK]" in post.text

    # Only staff may take the Answer button; the officer writes in the private chat.
    await other.click("💬 Jawab", post)
    assert "no longer valid" in (await other.callback_answer())["text"]
    await officer.click("💬 Jawab", post)
    assert "obrolan pribadi" in (await officer.callback_answer())["text"]
    prompt = await officer.reply()
    assert "Tulis jawaban Anda untuk pertanyaan #" in prompt.text
    assert "can I bring my cat inside?" in prompt.text
    await officer.send("Pets are not allowed inside, except assistance dogs.")
    assert "Terkirim ke warga" in (await officer.reply()).text
    back = await citizen.reply(timeout=8)
    assert back.text.startswith("💬 An officer answered your question")
    assert "Pets are not allowed inside, except assistance dogs." in back.text
    # The group reads that it is answered, so nobody answers it again.
    note = await group.reply(timeout=8)
    assert note.text.startswith(f"✅ Pertanyaan #{_rows(bot, OfficerQuestion)[0].id} sudah "
                                f"dijawab oleh petugas {OFFICER}:")
    assert "assistance dogs" in note.text


async def test_log_deduplicates_and_staff_see_their_units_questions(make_bot, database_url):
    bot = await _desk(make_bot, database_url, OPEN)
    citizen = bot.user(CITIZEN, first_name="Sari", language_code="id")
    other = bot.user(OTHER, first_name="Tono", language_code="id")
    officer = bot.user(OFFICER_UNIT, language_code="id")
    admin = bot.user(ADMIN, language_code="en")
    await _hello(citizen, other, officer, admin)

    await citizen.send(NOT_UNDERSTOOD)
    await citizen.reply()
    await other.send("Boleh bawa KUCING ke dalam gedung ??")
    await other.reply()
    # Rated 👎 on a passport answer (another unit) and on a KTP answer (the officer's unit).
    for question in ("syarat paspor", "syarat ktp"):
        await citizen.send(question)
        await citizen.reply()
        await citizen.click("👎")
        await citizen.callback_answer()
        await citizen.reply()
    by_text = {q.text: q for q in _rows(bot, UnansweredQuestion)}
    assert by_text[NOT_UNDERSTOOD].count == 2  # one row for both spellings
    assert set(by_text) == {NOT_UNDERSTOOD, "syarat paspor", "syarat ktp"}

    await officer.send("/belumterjawab")
    mine = await officer.reply()
    assert "Pertanyaan untuk unit Anda dan pertanyaan umum kantor." in mine.text
    assert "2× boleh bawa kucing" in mine.text and "syarat ktp" in mine.text
    assert "syarat paspor" not in mine.text
    await admin.send("/unanswered 7")
    everything = await admin.reply()
    assert "Unanswered questions, last 7 days" in everything.text
    assert "All units." in everything.text
    assert everything.text.index("2× boleh bawa kucing") < everything.text.index("syarat paspor")
    assert "office-wide" in everything.text and "1× 👎" in everything.text


async def test_weekly_digest_goes_once_and_the_gaps_csv(
    make_bot, database_url, tmp_path, monkeypatch
):
    bot = await _desk(make_bot, database_url, OPEN)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, language_code="id")
    await _hello(citizen)
    for question in (NOT_UNDERSTOOD, NOT_UNDERSTOOD, "=HYPERLINK(\"http://x\") apa itu?"):
        await citizen.send(question)
        await citizen.reply()

    # Asked in the week of 30 November: the digest is for that week, from Monday 7 December.
    [job] = bot.app.job_queue.get_jobs_by_name("unanswered-digest")
    assert job.trigger.interval.total_seconds() == 3600
    monday_early = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta
    monday = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert not queue_digest(bot.rt, monday_early)
    assert queue_digest(bot.rt, monday) and queue_digest(bot.rt, monday)
    digest = await group.reply(timeout=8)
    assert "Pertanyaan yang belum terjawab minggu lalu" in digest.text
    assert "(30/11 – 6/12/2026)" in digest.text
    assert "2 pertanyaan belum dapat dijawab dengan baik oleh bot, ditanyakan 3 kali" in digest.text
    assert "1. 2× boleh bawa kucing ke dalam gedung?" in digest.text
    await group.expect_silence(1.0)
    with bot.rt.db.session() as s:
        queued = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == GROUP)).all()
    assert len(queued) == 1

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(bot.rt.settings.knowledge_dir))
    out = tmp_path / "gaps.csv"
    assert main(["knowledge", "gaps", "--since", "3650d", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["question"] for r in rows] == [NOT_UNDERSTOOD, "'=HYPERLINK(\"http://x\") apa itu?"]
    assert rows[0]["asked_in_period"] == "2" and rows[0]["service"] == ""
    assert rows[0]["first_asked"].endswith("+07:00")  # the office's time, with its offset
    # The same as XLSX: typed cells (numbers, dates) and the hostile text kept as text.
    book = tmp_path / "gaps.xlsx"
    assert main(["knowledge", "gaps", "--since", "3650d", "-o", str(book)]) == 0
    sheet = load_workbook(book).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id", "question", "language"]
    first = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert first["question"].value == NOT_UNDERSTOOD
    assert first["asked_in_period"].value == 2 and first["asked_in_period"].data_type == "n"
    assert first["first_asked"].is_date
    hostile = {name: cell for name, cell in zip(header, sheet[3], strict=True)}["question"]
    assert hostile.data_type == "s" and hostile.value == "=HYPERLINK(\"http://x\") apa itu?"
    assert main(["knowledge", "gaps", "--since", "soon"]) == 2


async def test_questions_are_exported_and_unlinked_on_erasure(make_bot, database_url):
    bot = await _desk(make_bot, database_url, OPEN)
    group = bot.group(GROUP)
    citizen = bot.user(CITIZEN, language_code="id")
    officer = bot.user(OFFICER, language_code="id")
    await _hello(citizen, officer)
    await citizen.send(NOT_UNDERSTOOD)
    await citizen.reply()
    await citizen.click("🙋 Tanya petugas")
    await citizen.replies(2)
    post = await group.reply(timeout=8)

    await citizen.send("/dataku")
    sent = await citizen.reply()
    data = json.loads(bot.emulator.files[sent.document["file_id"]].data)
    assert [a["text"] for a in data["questions"]["asked"]] == [NOT_UNDERSTOOD]
    assert data["questions"]["asked_an_officer"][0]["status"] == "open"

    await citizen.send("/hapusdata")
    await citizen.reply()
    await citizen.click("Ya, hapus data saya")
    _done, report = await citizen.replies(2)
    assert "dilepas dari identitas Anda" in report.text
    assert _rows(bot, QuestionAsk) == []
    [handed] = _rows(bot, OfficerQuestion)
    assert handed.user_id == 0 and handed.ask_id is None
    assert _rows(bot, UnansweredQuestion)[0].count == 1  # the office's list keeps the question

    await group.send(officer, "Tidak boleh, kecuali anjing pemandu.", reply_to=post)
    assert "sudah menghapus datanya" in (await group.reply()).text
    await citizen.expect_silence(1.0)


async def test_without_an_officers_group_ask_an_officer_gives_the_offices_contacts(
    make_bot, database_url
):
    """A fresh install has no officers' group yet: the way to a person is the office itself."""
    bot = await make_bot(database_url)  # no OFFICERS_CHAT_ID, no COMPLAINTS_CHAT_ID
    bot.rt.clock = lambda: CLOSED
    sari = bot.user(CITIZEN, first_name="Sari", language_code="id")
    tom = bot.user(CITIZEN_EN, first_name="Tom", language_code="en")
    await _hello(sari, tom)

    await sari.send(NOT_UNDERSTOOD)
    unsure = await sari.reply()
    assert "🙋 Tanya petugas" in unsure.labels
    await sari.click("🙋 Tanya petugas", unsure)
    told = await sari.reply()
    assert "Petugas kami dapat membantu Anda langsung" in told.text
    assert "(0251) 831 1111" in told.text and "mpp@harapankota.go.id" in told.text
    assert "Kantor sedang tutup" in told.text and "Senin" in told.text
    assert "diteruskan" not in told.text  # nothing was passed to anyone
    assert _rows(bot, OfficerQuestion) == []

    await tom.send("can I bring my cat into the office")
    unsure_en = await tom.reply()
    await tom.click("🙋 Ask an officer", unsure_en)
    told_en = await tom.reply()
    assert "Our officers can help you directly" in told_en.text
    assert "WhatsApp (messages only): +62 811 1111 2026" in told_en.text
    # Someone else's press of that button is refused.
    other = bot.user(OTHER, first_name="Other", language_code="id")
    await _hello(other)
    await other.forge_click(unsure.buttons[-1][1], unsure)
    assert "tidak berlaku" in (await other.callback_answer())["text"]
