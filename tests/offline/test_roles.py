"""The offline demo's role offer: a user created in the web chat takes a role (admin included)
in the staff records, with its menu, over the HTTP API and in headless Chromium. Only the
offline runner serves it."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bot.core.models import AuditEntry, Staff
from bot.offline import role_routes


async def _menu(bot, user_id: int, has: str, present: bool = True) -> list[str]:  # noqa: ANN001
    def names() -> list[str]:
        return [c["command"] for c in bot.emulator.commands_for(user_id)]

    await bot.emulator.wait_for(lambda: (has in names()) == present, 5.0)
    assert (has in names()) == present, names()
    return names()


async def test_a_new_user_takes_a_role_over_the_api(bot):
    bot.server.add_routes(role_routes(bot.rt))
    base = bot.server.base_url
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/_offline/roles")).json() == {
            "ok": True, "roles": ["citizen", "officer", "supervisor", "admin"],
        }
        await client.post("/_emulator/users", json={"id": 7001, "first_name": "Rina",
                                                    "language_code": "en"})
        given = await client.post("/_offline/users/7001/role",
                                  json={"role": "admin", "language_code": "en"})
        assert given.json() == {"ok": True, "role": "admin"}
        # Her menu is the admins' before she writes a word, in her language.
        menu = await _menu(bot, 7001, "officer")
        assert {"officer", "register", "report", "services"} <= set(menu)
        admin = bot.user(7001)
        await admin.send("/officer list")
        assert "7001: admin" in (await admin.reply()).text

        # Back to citizen: the staff row and the menu go.
        again = await client.post("/_offline/users/7001/role", json={"role": "citizen"})
        assert again.json() == {"ok": True, "role": "citizen"}
        await _menu(bot, 7001, "officer", present=False)
        for bad in ({"role": "king"}, {}, []):
            assert (await client.post("/_offline/users/7001/role", json=bad)).status_code == 400
    with bot.rt.db.session() as s:
        assert s.get(Staff, 7001) is None
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert actions == ["staff.add", "staff.remove"]


def test_no_deployed_page_offers_roles(bot_sqlite):
    from bot.web import page_routes

    paths = [getattr(route, "path", "") for route in page_routes(bot_sqlite.rt)]
    assert paths and not any(path.startswith("/_offline") for path in paths)


@pytest.mark.browser
async def test_a_newcomer_becomes_admin_in_the_web_chat(browser, bot_sqlite):
    from playwright.async_api import expect

    bot_sqlite.server.add_routes(role_routes(bot_sqlite.rt))
    page = await browser.new_page(viewport={"width": 420, "height": 800})
    page.set_default_timeout(8_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(bot_sqlite.server.base_url)
    await expect(page.locator("#new-role")).to_be_visible()
    await page.fill("#new-name", "Dewi")
    await page.fill("#new-id", "4343")
    await page.select_option("#new-role", "admin")
    await page.click("#user-create")
    pane = page.locator("#pane-4343")
    await expect(pane.locator(".pane-meta")).to_contain_text("admin")
    await _menu(bot_sqlite, 4343, "officer")
    await pane.locator(".commands-button").click()
    await expect(pane.locator(".command-name", has_text="/officer")).to_be_visible()
    await pane.locator(".commands-button").click()
    admin = bot_sqlite.user(4343)  # before she writes: her replies are counted from here
    box = pane.locator(".text-input")
    await box.fill("/officer")
    await box.press("Enter")
    usage = await admin.reply()
    assert usage.text.startswith("Cara pakai:\n/officer add <id pengguna atau kode>")
    await expect(pane.locator(".message.from-bot .text").last).to_have_text(usage.text)
    assert problems == []
    await page.close()
