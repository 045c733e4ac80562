"""Unanswered questions in the console against the real bot: the list as each role may see it,
a question turned into a free-form entry or into words of a service (validated, previewed as
the chat would answer it, saved with its history and audit), after which the bot answers it
and it leaves the lists."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlmodel import select

from bot.console.models import KnowledgeEdit
from bot.core.models import AuditEntry
from bot.feedback import log as fl
from bot.feedback.models import UnansweredQuestion
from tests.support.console import (
    OFFICER,
    OTHER_OFFICER,
    SUPERVISOR,
    citizen_in_chat,
    csrf_of,
    knowledge_copy,
    signed_in,
    start_console,
)

NOT_UNDERSTOOD = "Mohon maaf, kami belum memahami pertanyaan Anda."
MUSHOLA = "di mana mushola di gedung ini?"
ANSWER = "Mushola ada di lantai 2, di samping ruang tunggu."


def logged(bot, text: str) -> UnansweredQuestion:  # noqa: ANN001
    with bot.rt.db.session() as s:
        return s.exec(select(UnansweredQuestion).where(UnansweredQuestion.text == text)).one()


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]* value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def textarea(html: str) -> str:
    import html as markup

    found = re.search(r'<textarea name="text" id="yaml"[^>]*>(.*?)</textarea>', html, re.S)
    assert found
    return markup.unescape(found.group(1))


async def test_a_question_becomes_an_entry_and_the_bot_answers_it(make_bot, database_url,
                                                                  tmp_path):
    folder = knowledge_copy(tmp_path)
    bot = await start_console(make_bot, database_url, knowledge_dir=folder)
    citizen = await citizen_in_chat(bot)
    await citizen.send(MUSHOLA)
    assert NOT_UNDERSTOOD in (await citizen.reply(timeout=10)).text
    question = logged(bot, MUSHOLA)
    officer = await signed_in(bot, OFFICER)
    supervisor = await signed_in(bot, SUPERVISOR)
    try:
        # The officer sees it (an office-wide question) but cannot answer it here.
        listed = await officer.get("/console/unanswered")
        assert listed.status_code == 200 and MUSHOLA in listed.text
        assert f"/console/unanswered/{question.id}" not in listed.text
        assert (await officer.get(f"/console/unanswered/{question.id}")).status_code == 403

        page = await supervisor.get(f"/console/unanswered/{question.id}")
        assert page.status_code == 200
        token = csrf_of(page.text)
        assert field(page.text, "entry_id") == "di-mana-mushola-di-gedung"
        assert field(page.text, "title_id") == MUSHOLA
        assert field(page.text, "keywords_id") == "di mana mushola di gedung ini"

        # An id that is no id, or an existing entry's: refused, nothing written.
        for taken in ("Mushola!", "parkir"):
            refused = await supervisor.post(f"/console/unanswered/{question.id}/preview", data={
                "csrf": token, "kind": "entry", "entry_id": taken, "title_id": "Mushola?",
                "keywords_id": "mushola", "answer_id": ANSWER})
            assert refused.status_code == 422 and "tidak dapat dipakai" in refused.text
        # Keywords the question does not contain: valid, but the preview says it.
        unmatched = await supervisor.post(f"/console/unanswered/{question.id}/preview", data={
            "csrf": token, "kind": "entry", "entry_id": "mushola", "title_id": "Mushola?",
            "keywords_id": "kantin", "answer_id": ANSWER})
        assert unmatched.status_code == 200 and "Bot masih belum akan memahami" in unmatched.text

        checked = await supervisor.post(f"/console/unanswered/{question.id}/preview", data={
            "csrf": token, "kind": "entry", "entry_id": "mushola",
            "title_id": "Di mana mushola?", "title_en": "Where is the prayer room?",
            "keywords_id": "mushola, musholla, tempat sholat",
            "keywords_en": "prayer room, mosque", "answer_id": ANSWER,
            "answer_en": "The prayer room is on the first floor, beside the waiting room."})
        assert checked.status_code == 200 and 'id="save"' in checked.text
        # The chat's answer to the question itself, in both languages.
        answers = checked.text.split('id="answer-id"', 1)[1]
        assert ANSWER in answers.split("</div>", 1)[0]
        assert "The prayer room is on the first floor" in checked.text.split(
            'id="answer-en"', 1)[1].split("</div>", 1)[0]
        assert not (folder / "entries" / "mushola.yaml").exists()  # a preview writes nothing
        text = textarea(checked.text)

        broken = await supervisor.post(f"/console/unanswered/{question.id}/save", data={
            "csrf": token, "target": "entry:mushola", "text": text.replace("id: mushola", "")})
        assert broken.status_code == 422 and "entries/mushola.yaml" in broken.text
        assert not (folder / "entries" / "mushola.yaml").exists()

        saved = await supervisor.post(f"/console/unanswered/{question.id}/save", data={
            "csrf": token, "target": "entry:mushola", "text": text})
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/console/unanswered?handled={question.id}"
        assert (folder / "entries" / "mushola.yaml").read_text(encoding="utf-8") == text

        await citizen.send(MUSHOLA)
        assert ANSWER in (await citizen.reply(timeout=10)).text

        after = await supervisor.get(saved.headers["location"])
        assert 'role="status"' in after.text and f'id="question-{question.id}"' not in after.text
        with bot.rt.db.session() as s:
            (edit,) = s.exec(select(KnowledgeEdit)).all()
            assert (edit.path, edit.before, edit.edited_by) == (
                "entries/mushola.yaml", None, SUPERVISOR)
            row = s.get(UnansweredQuestion, question.id)
            assert (row.handled_by, row.handled_as) == (SUPERVISOR, "entries/mushola.yaml")
            actions = {a.action for a in s.exec(select(AuditEntry).where(
                AuditEntry.actor_id == SUPERVISOR))}
            assert {"knowledge.edit", "unanswered.handled"} <= actions
        # The chat's list leaves it out as well.
        staff = bot.user(SUPERVISOR, "Staff")
        await staff.send("/belumterjawab")
        assert "Tidak ada pertanyaan yang belum terjawab" in (await staff.reply(timeout=10)).text
    finally:
        await officer.aclose()
        await supervisor.aclose()


async def test_words_added_to_a_service_within_the_unit(make_bot, database_url, tmp_path):
    folder = knowledge_copy(tmp_path)
    bot = await start_console(make_bot, database_url, knowledge_dir=folder)
    citizen = await citizen_in_chat(bot)
    asked = "mau urus tanda pengenal warga"
    await citizen.send(asked)
    assert NOT_UNDERSTOOD in (await citizen.reply(timeout=10)).text
    question = logged(bot, asked)
    assert question.service_id == "ktp-el"  # the nearest service, in the supervisor's unit
    with bot.rt.db.session() as s:
        fl.record_question(s, user_id=7001, chat_id=7001, locale="id",
                           text="paspor dinas bisa di sini?", service_id="paspor",
                           topic=None, understood=False)
    passport = logged(bot, "paspor dinas bisa di sini?")
    original = (folder / "services" / "ktp-el.yaml").read_text(encoding="utf-8")

    supervisor = await signed_in(bot, SUPERVISOR)
    other = await signed_in(bot, OTHER_OFFICER)
    try:
        # Another unit's question is neither listed nor opened; the officer there sees it.
        listed = await supervisor.get("/console/unanswered?days=7")
        assert asked in listed.text and "paspor dinas" not in listed.text
        assert (await supervisor.get(f"/console/unanswered/{passport.id}")).status_code == 403
        theirs = await other.get("/console/unanswered")
        assert "paspor dinas" in theirs.text and asked not in theirs.text
        # The downloads hold the same questions as the list, whatever a unit in the URL says.
        assert 'href="/console/unanswered.xlsx?days=7"' in listed.text
        sheet = await supervisor.get("/console/unanswered.xlsx?days=7&unit=imigrasi-kepolisian")
        assert sheet.status_code == 200 and "unanswered-7d.xlsx" in sheet.headers[
            "content-disposition"]
        book = load_workbook(io.BytesIO(sheet.content))
        header, *rows = book.active.iter_rows(values_only=True)
        assert [r[header.index("question")] for r in rows] == [asked]
        assert rows[0][header.index("service")] == "KTP Elektronik (KTP-el)"
        table = await other.get("/console/unanswered.csv")
        assert table.headers["content-type"].startswith("text/csv")
        assert "paspor dinas bisa di sini?" in table.text and asked not in table.text

        page = await supervisor.get(f"/console/unanswered/{question.id}")
        token = csrf_of(page.text)
        assert 'value="ktp-el" selected' in page.text and 'value="paspor"' not in page.text
        refused = await supervisor.post(f"/console/unanswered/{question.id}/preview", data={
            "csrf": token, "kind": "service", "service": "paspor", "locale": "id",
            "phrase": "tanda pengenal warga"})
        assert refused.status_code == 422 and "Pilih salah satu layanan" in refused.text
        checked = await supervisor.post(f"/console/unanswered/{question.id}/preview", data={
            "csrf": token, "kind": "service", "service": "ktp-el", "locale": "id",
            "phrase": "tanda pengenal warga"})
        assert checked.status_code == 200
        assert "KTP" in checked.text.split('id="answer-id"', 1)[1].split("</div>", 1)[0]
        text = textarea(checked.text)
        assert text == original.replace("cetak KTP]", 'cetak KTP, "tanda pengenal warga"]', 1)
        saved = await supervisor.post(f"/console/unanswered/{question.id}/save", data={
            "csrf": token, "target": "service:ktp-el", "text": text})
        assert saved.status_code == 303
        assert (folder / "services" / "ktp-el.yaml").read_text(encoding="utf-8") == text
        await citizen.send(asked)
        answer = (await citizen.reply(timeout=10)).text
        assert NOT_UNDERSTOOD not in answer and "KTP" in answer

        # Another unit's service cannot be written, even by its target in the form.
        forged = await supervisor.post(f"/console/unanswered/{question.id}/save", data={
            "csrf": token, "target": "service:paspor", "text": "id: paspor\n"})
        assert forged.status_code == 422
        # The officer of the other unit cannot take its question off the list; nobody can
        # without the form's token.
        theirs_token = csrf_of(theirs.text)
        assert (await other.post(f"/console/unanswered/{passport.id}/handled",
                                 data={"csrf": theirs_token})).status_code == 403
        assert (await supervisor.post(f"/console/unanswered/{question.id}/handled",
                                      data={})).status_code == 403
    finally:
        await supervisor.aclose()
        await other.aclose()
