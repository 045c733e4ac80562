"""The end-to-end harness itself: groups, settle(), failures that explain themselves."""

from __future__ import annotations

import pytest

from tests.support.e2e import PNG_1PX


async def test_group_messages_and_kick(bot_sqlite):
    bot = bot_sqlite
    officers = bot.group(-100200, "Officers")
    sent = await bot.app.bot.send_message(officers.id, "<b>New complaint</b>", parse_mode="HTML")
    posted = await officers.reply()
    assert (posted.text, posted.html, posted.chat_id) == (
        "New complaint",
        "<b>New complaint</b>",
        officers.id,
    )
    await bot.app.bot.edit_message_text("Taken", chat_id=officers.id, message_id=sent.message_id)
    edit = await officers.reply()
    assert edit.edited and edit.message_id == sent.message_id
    assert [m.text for m in officers.messages()] == ["Taken"]
    officers.kick_bot()
    from telegram.error import Forbidden

    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.app.bot.send_message(officers.id, "anyone?")


async def test_settle_waits_until_the_bot_has_handled_everything(bot_sqlite):
    bot = bot_sqlite
    citizen = bot.user(3001, language_code="en")
    await citizen.send("/start")
    await citizen.send("/bahasa")
    await bot.settle()
    # Both answers are already there: nothing is awaited from here on.
    texts = [m.text for m in citizen.messages()]
    assert len(texts) == 2 and texts[1] == "Choose your language:"


async def test_replies_failure_lists_what_arrived_and_what_was_refused(bot_sqlite):
    from telegram.error import BadRequest

    bot = bot_sqlite
    citizen = bot.user(3002, language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    await bot.app.bot.send_message(citizen.id, "plain")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.app.bot.send_message(citizen.id, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(pytest.fail.Exception) as failure:
        await citizen.replies(2, timeout=0.2)
    assert str(failure.value).splitlines()[1:] == [
        "    sendMessage#3: 'plain'",
        "  the emulator refused:",
        "    sendMessage: Bad Request: can't parse entities: Can't find end tag corresponding"
        ' to start tag "b"',
    ]


async def test_user_media_reaches_the_bot(bot_sqlite):
    bot = bot_sqlite
    citizen = bot.user(3003)
    await citizen.send_photo(PNG_1PX, caption="KTP")
    await citizen.send_document("rekap.csv", b"a,b\n")
    await citizen.send_location(-6.2, 106.8)
    await citizen.send_contact("+628123")
    await bot.settle()
    kinds = [
        next(k for k in ("photo", "document", "location", "contact") if k in e.message)
        for e in bot.emulator.chat_events(citizen.id, kinds=("user",))
    ]
    assert kinds == ["photo", "document", "location", "contact"]
    assert not bot.emulator.updates  # every one fetched and confirmed by the bot
