"""Each person's "/" menu and /help show the commands of their role, through the emulator: a
staff member's chat gets its own menu (BotCommandScopeChat) when the role is given, in the
language they chose, and loses it when the role is taken away; citizens keep the default one."""

from __future__ import annotations

from sqlmodel import select

from bot.outbox.models import OutboxMessage

ADMIN, OFFICER, CITIZEN = 1, 2002, 3003


def names(bot, user_id: int) -> list[str]:  # noqa: ANN001
    return [c["command"] for c in bot.emulator.commands_for(user_id)]


async def menu_of(bot, user_id: int, has: str, present: bool = True) -> list[str]:  # noqa: ANN001
    """The user's menu once ``has`` is in it (or gone from it): the outbox sends the call."""
    await bot.emulator.wait_for(lambda: (has in names(bot, user_id)) == present, 5.0)
    menu = names(bot, user_id)
    assert (has in menu) == present, menu
    return menu


async def test_a_role_given_and_taken_changes_the_menu_and_help(make_bot, database_url):
    bot = await make_bot(database_url, admin_ids=[ADMIN])
    admin = bot.user(ADMIN, "Admin", language_code="en")
    officer = bot.user(OFFICER, "Budi", language_code="en")
    citizen = bot.user(CITIZEN, "Sari", language_code="id")
    for user in (admin, officer, citizen):
        await user.send("/start")
        await user.reply()
    default_en = names(bot, OFFICER)
    assert "register" not in default_en and "services" in default_en

    # The admin's /help lists every staff command, and sets the admin's own menu.
    await admin.send("/help")
    help_text = (await admin.reply()).text
    assert "For staff and admins" in help_text
    assert "/officer - Add, invite or remove officers" in help_text
    assert "/report - Complaint figures for a period" in help_text
    assert "/register - Register an application handed in at the counter" in help_text
    admin_menu = await menu_of(bot, ADMIN, "officer")
    assert {"register", "report", "reload", "audit", "services", "help"} <= set(admin_menu)

    await admin.send(f"/officer add {OFFICER} supervisor")
    assert "is now supervisor" in (await admin.reply()).text
    menu = await menu_of(bot, OFFICER, "report")
    assert {"register", "complaints", "reply", "report", "close", "services"} <= set(menu)
    assert "officer" not in menu and "reload" not in menu  # the admins' stay theirs
    assert menu.index("register") < menu.index("services")  # work first
    await officer.send("/help")
    shown = (await officer.reply()).text
    assert "For officers and supervisors" in shown and "/report" in shown
    assert "/officer" not in shown

    # The citizen still has the default menu, and /help without a staff section.
    assert "register" not in names(bot, CITIZEN) and "layanan" in names(bot, CITIZEN)
    await citizen.send("/help")
    plain = (await citizen.reply()).text
    assert "/layanan" in plain and "/register" not in plain and "petugas" not in plain

    # A language chosen in the bot changes the staff member's menu too.
    await officer.send("/language")
    await officer.reply()
    await officer.click("🇮🇩 Bahasa Indonesia")
    await officer.replies(2)
    indonesian = await menu_of(bot, OFFICER, "laporan")
    assert {"register", "balas", "laporan", "tutup", "layanan"} <= set(indonesian)

    # Removed: back to the default menu (the chat scope deleted), and no staff in /help.
    await admin.send(f"/officer remove {OFFICER}")
    await admin.reply()
    await menu_of(bot, OFFICER, "laporan", present=False)
    # The default menu again, in the language of their Telegram app, as every citizen's.
    assert names(bot, OFFICER) == default_en
    await officer.send("/help")
    assert "/register" not in (await officer.reply()).text
    # Each change was one call through the outbox; a second /help queues nothing new.
    with bot.rt.db.session() as s:
        methods = [
            m.method for m in s.exec(
                select(OutboxMessage).where(OutboxMessage.chat_id == OFFICER)
                .order_by(OutboxMessage.id)
            ).all()
        ]
    assert methods == ["setMyCommands", "setMyCommands", "deleteMyCommands"]


async def test_an_invited_officer_gets_the_menu_in_indonesian(make_bot, database_url):
    bot = await make_bot(database_url, admin_ids=[ADMIN])
    admin = bot.user(ADMIN, "Admin", language_code="id")
    newcomer = bot.user(OFFICER, "Budi", language_code="id")
    await admin.send("/officer invite")
    code = (await admin.reply()).text.split("/start ")[1].split()[0]
    await newcomer.send(f"/start {code}")
    welcome = (await newcomer.reply()).text
    assert "Selamat bergabung! Anda sekarang petugas." in welcome
    assert "/help" in welcome
    menu = await menu_of(bot, OFFICER, "balas")
    assert {"register", "update", "find", "overdue", "balas", "loket", "konsol"} <= set(menu)
    assert "laporan" not in menu  # the supervisors'
    await newcomer.send("/help")
    shown = (await newcomer.reply()).text
    assert "Untuk petugas" in shown
    assert "/register - Catat berkas yang diserahkan di loket" in shown


ERRORS = ("Sorry, something went wrong", "Maaf, terjadi gangguan", "I don't know that command",
          "Saya tidak mengenal perintah itu")


async def test_every_staff_command_without_arguments_answers_with_its_usage(
    make_bot, database_url
):
    """As an admin, each staff command alone gets a real answer (its usage, a list, a choice),
    never the apology of an error: a usage text with <placeholders> used to be refused by
    Telegram as HTML."""
    from handlers.registry import registry_of

    bot = await make_bot(database_url, admin_ids=[ADMIN, ADMIN + 1])
    admin = bot.user(ADMIN, "Admin", language_code="id")
    await admin.send("/officer")
    assert "Cara pakai:\n/officer add <id pengguna" in (await admin.reply()).text
    commands = [id_name for _role, id_name, _en, _d in registry_of(bot.app).staff_commands]
    assert {"officer", "balas", "duplikat", "unit", "update", "find", "laporan"} <= set(commands)
    for name in commands:
        before = len(bot.emulator.events)
        await admin.send(f"/{name}")
        await bot.settle()
        said = [
            e.message.get("text") or e.message.get("caption") or ""
            for e in bot.emulator.chat_events(ADMIN, before, kinds=("bot", "edit"))
        ]
        assert said, f"/{name} got no answer"
        assert not any(error in text for text in said for error in ERRORS), (name, said)
    # The usages read as typed, placeholders included, in either language.
    usages = {
        "officer": "/officer add <user id or code> [officer|supervisor]",
        "balas": "Usage: /reply <ticket>",
        "duplikat": "Usage: /duplikat <ticket> <original ticket>",
        "unit": "Usage: /unit <user id> <unit name>",
        "update": "Usage: /update <tracking number>",
        "find": "Usage: /find <tracking number or applicant name>",
    }
    english = bot.user(ADMIN + 1, "Admin", language_code="en")
    for name, usage in usages.items():
        await english.send(f"/{name}")
        assert usage in (await english.reply()).text
