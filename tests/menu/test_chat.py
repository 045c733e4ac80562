"""End to end: /start, unknown commands, the language switch and the command menu, as a citizen."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.text import escape
from handlers.common import MENU

MENU_DATA = [
    "menu:services", "menu:status", "menu:complaint", "menu:survey", "menu:queue", "menu:language",
]


def _labels(locale: str) -> list[str]:
    return [Translator(locale).gettext(entry.label) for entry in MENU]


async def test_start_greets_in_indonesian_with_the_main_menu(bot):
    citizen = bot.user(1001, first_name="Sari", language_code="id")
    await citizen.send("/start")
    greeting = await citizen.reply()
    assert greeting.method == "sendMessage"
    assert bot.rt.knowledge.office.name in greeting.text
    assert f"<b>{escape(bot.rt.knowledge.office.name)}</b>" in greeting.html
    assert [data for _, data in greeting.buttons] == MENU_DATA
    assert greeting.labels == _labels("id")
    assert greeting.labels != _labels("en")  # really translated, not the English msgids
    await citizen.expect_silence()


async def test_start_in_english_for_an_english_telegram(bot):
    tourist = bot.user(1002, first_name="John", language_code="en")
    await tourist.send("/start")
    greeting = await tourist.reply()
    assert greeting.text.startswith("Hello! I am the assistant of")
    assert greeting.labels == [
        "📋 Services",
        "🔎 Application status",
        "📣 Complaint",
        "⭐ Survey",
        "🎫 Book a visit",
        "🌐 Language",
    ]


async def test_unknown_command_says_so_and_offers_the_menu(bot):
    tourist = bot.user(1003, language_code="en")
    await tourist.send("/teleport now")
    answer = await tourist.reply()
    assert answer.text == "I don't know that command. Type /help to see what I can do."
    assert [data for _, data in answer.buttons] == MENU_DATA
    await tourist.expect_silence()


async def test_language_switch_is_kept_across_a_restart(make_bot, database_url):
    first = await make_bot(database_url)
    citizen = first.user(1004, first_name="Sari", language_code="id")
    await citizen.send("/bahasa")
    choose = await citizen.reply()
    assert choose.buttons == [("🇮🇩 Bahasa Indonesia", "lang:id"), ("🇬🇧 English", "lang:en")]
    await citizen.click("🇬🇧 English")
    assert await citizen.callback_answer() == {
        "text": None,
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }
    confirmation, menu = await citizen.replies(2)
    assert confirmation.edited and confirmation.method == "editMessageText"
    assert confirmation.message_id == choose.message_id
    assert confirmation.text == "Language set to English."
    assert confirmation.buttons == []  # the language buttons are gone
    assert menu.text == "What would you like to do?"
    assert menu.labels == _labels("en")

    # Restart: a new process on the same database, the same Telegram chats.
    await first.stop()
    second = await make_bot(database_url, emulator=first.emulator)
    citizen = second.user(1004)
    await citizen.send("/start")
    assert (await citizen.reply()).text.startswith("Hello! I am the assistant of")


async def test_menu_language_button_opens_the_language_choice(bot):
    citizen = bot.user(1005, language_code="id")
    await citizen.send("/start")
    await citizen.reply()
    await citizen.click("menu:language")
    choose = await citizen.reply()
    assert [data for _, data in choose.buttons] == ["lang:id", "lang:en"]
    assert await citizen.callback_answer() is not None


async def test_forged_button_changes_nothing(bot):
    citizen = bot.user(1006, language_code="en")
    await citizen.send("/start")
    await citizen.reply()
    await citizen.forge_click("lang:fr")
    assert await citizen.callback_answer() is not None  # answered, so the spinner stops
    await citizen.expect_silence()
    await citizen.send("/start")
    assert (await citizen.reply()).text.startswith("Hello! I am the assistant of")


async def test_commands_menu_in_both_languages(bot):
    indonesian = [c["command"] for c in bot.emulator.commands_for(bot.user(1007, "A", "id").id)]
    english = [c["command"] for c in bot.emulator.commands_for(bot.user(1008, "B", "en").id)]
    other = [c["command"] for c in bot.emulator.commands_for(bot.user(1009, "C", "fr").id)]
    assert {"start", "layanan", "bahasa", "batal", "help"} <= set(indonesian)
    assert {"start", "services", "language", "cancel", "help"} <= set(english)
    assert other == indonesian  # no commands of its own: the default (Indonesian) set


async def test_bot_rides_out_telegram_flood_limits(make_bot, tmp_path):
    bot = await make_bot(f"sqlite:///{tmp_path}/flood.db", flood_limits=True)
    citizen = bot.user(1010, language_code="en")
    for _ in range(6):
        await citizen.send("/start")
    # A private chat takes a burst of four; the rest wait for retry_after and are re-sent.
    replies = await citizen.replies(6, timeout=10)
    assert all(r.text.startswith("Hello!") for r in replies)
    refused = [e for e in bot.emulator.errors if e["error_code"] == 429]
    assert refused and all(e["method"] == "sendMessage" for e in refused)
