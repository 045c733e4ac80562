"""Media the bot does not read (voice notes, stickers, videos, documents, ...) get a short,
friendly answer saying what it takes, in the user's language; never silence."""

from __future__ import annotations

import pytest

KINDS = ["voice", "audio", "video", "video_note", "animation", "sticker", "document"]


async def _send(user, kind: str) -> None:
    if kind == "document":
        await user.send_document("scan.pdf", b"%PDF-1.4", mime="application/pdf")
    else:
        await user.send_media(kind)


@pytest.mark.parametrize("kind", KINDS)
async def test_media_outside_a_flow_gets_a_friendly_answer(bot_sqlite, kind):
    citizen = bot_sqlite.user(4101, first_name="Sari", language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    await _send(citizen, kind)
    answer = await citizen.reply()
    assert "teks" in answer.text and "foto" in answer.text and "lokasi" in answer.text
    assert answer.labels  # the menu, to go on from there
    english = bot_sqlite.user(4102, first_name="Ann", language_code="en")
    await english.send("/start")
    await english.reply()
    await _send(english, kind)
    answer = await english.reply()
    assert "text" in answer.text and "photo" in answer.text and "location" in answer.text
