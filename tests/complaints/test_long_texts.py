"""End to end: complaints as long as the bot allows, in characters Telegram counts double
(emoji) or that grow when escaped ('&'), reach the citizen's summary and the officers' group."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.complaints.models import Complaint
from bot.core.db import Database
from bot.outbox.models import OutboxMessage

GROUP = -100778
CITIZEN = 1101


async def _file_long(user, story: str) -> None:
    await user.send("/start")
    await user.reply()
    await user.send("/pengaduan")
    await user.reply()
    await user.click("Biaya atau pungutan liar")
    await user.reply()
    await user.send(story)
    assert "Layanan apa" in (await user.reply()).text
    await user.click("KTP Elektronik (KTP-el)")
    assert "Kapan kejadiannya?" in (await user.reply()).text
    await user.send("kemarin")
    await user.reply()
    await user.send("⏭ Lewati")
    await user.replies(2)
    await user.click("cf:ev:done")
    await user.reply()
    await user.click("cf:priv:named")


# Two words at least (a complaint says something): emoji and ampersands with spaces between.
@pytest.mark.parametrize("story", ["😀 " * 1500, "& " * 1490], ids=["emoji", "ampersands"])
async def test_longest_complaints_reach_citizen_and_group(tmp_path, make_bot, story):
    url = f"sqlite:///{tmp_path}/long.db"
    Database(url).upgrade()
    bot = await make_bot(url, complaints_chat_id=GROUP)
    citizen = bot.user(CITIZEN, first_name="Sari", language_code="id")
    group = bot.group(GROUP)

    await _file_long(citizen, story)
    # The summary may take several messages; the Send button is under the last one.
    summary = []
    while not any(m.labels for m in summary):
        summary += await citizen.replies(1, timeout=8)
    assert "".join(m.text for m in summary).count(story[0]) == story.count(story[0])
    assert "terjadi gangguan" not in " ".join(m.text for m in summary)
    await citizen.click("📨 Kirim pengaduan", summary[-1])
    receipt = await citizen.reply(timeout=8)
    assert "Pengaduan Anda sudah kami terima" in receipt.text

    with bot.rt.db.session() as s:
        complaint = s.exec(select(Complaint)).one()
    # The post first (one message with its buttons, edited later), the long story after it.
    posts = [await group.reply(timeout=8)]
    assert complaint.ticket in posts[0].text and posts[0].labels
    assert "Uraiannya menyusul pada pesan berikutnya" in posts[0].text
    while "".join(m.text for m in posts).count(story[0]) < story.count(story[0]):
        posts += await group.replies(1, timeout=8)
    assert "".join(m.text for m in posts).count(story[0]) == story.count(story[0])
    await bot.settle()
    with bot.rt.db.session() as s:
        statuses = {row.status for row in s.exec(select(OutboxMessage)).all()}
    assert statuses <= {"sent"}, statuses
