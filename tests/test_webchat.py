"""The web chat page in headless Chromium, against the real bot: a citizen's first minutes."""

from __future__ import annotations

import os

import pytest

from tests.browser import browser_missing, launch

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser():  # noqa: ANN201 - a Playwright Browser
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the web chat test needs Chromium on CI: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


async def test_a_citizen_chats_in_the_browser(bot_sqlite, browser):
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": 400, "height": 800})
    page.set_default_timeout(8_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda request: problems.append(f"{request.url} failed"))
    await page.goto(bot_sqlite.server.base_url)

    # No user yet: the page asks who is chatting.
    await expect(page.locator("#user-dialog")).to_be_visible()
    await page.fill("#new-name", "Sari")
    await page.select_option("#new-language", "id")
    await page.fill("#new-id", "4242")
    await page.click("#user-create")
    pane = page.locator("#pane-4242")
    await expect(pane).to_be_visible()
    assert bot_sqlite.emulator.users[4242]["first_name"] == "Sari"
    citizen = bot_sqlite.user(4242)

    box = pane.locator(".text-input")
    await box.fill("/start")
    await box.press("Enter")
    greeting = await citizen.reply()
    bubbles = pane.locator(".message.from-bot")
    await expect(bubbles).to_have_count(1)
    await expect(bubbles.last.locator(".text")).to_have_text(greeting.text)
    office = bot_sqlite.rt.knowledge.office.name
    await expect(bubbles.last.locator("strong").first).to_have_text(office)

    # The command menu is the one the bot set for Indonesian users.
    await pane.locator(".commands-button").click()
    await expect(pane.locator(".command-name")).to_have_text(
        [f"/{c['command']}" for c in bot_sqlite.emulator.commands_for(4242)]
    )
    await expect(pane.locator(".command-name").first).to_have_text("/start")
    await pane.locator(".commands-button").click()
    await expect(pane.locator(".command-menu")).to_be_hidden()

    # A main-menu button: the bot answers the click and lists the categories.
    await bubbles.last.get_by_role("button", name="📋 Layanan").click()
    categories = await citizen.reply()
    await expect(bubbles).to_have_count(2)
    await expect(bubbles.last.locator(".text")).to_have_text(categories.text)
    await expect(bubbles.last.locator(".inline-button")).to_have_text(categories.labels)

    # A question, answered as the bot wrote it (bold title and all).
    await box.fill("syarat ktp")
    await box.press("Enter")
    answer = await citizen.reply()
    assert "KTP" in answer.text
    await expect(bubbles).to_have_count(3)
    await expect(bubbles.last.locator(".text")).to_have_text(answer.text)
    await expect(bubbles.last.locator("strong").first).to_contain_text("KTP")
    await expect(pane.locator(".message.from-user .text")).to_have_text(["/start", "syarat ktp"])

    # Where the office is: a venue with a link to OpenStreetMap, no map tiles.
    await box.fill("kantornya di mana")
    await box.press("Enter")
    venue, _hours = await citizen.replies(2)
    link = pane.locator(".place.venue .osm-link")
    await expect(link).to_have_attribute(
        "href",
        "https://www.openstreetmap.org/?mlat={0:.6f}&mlon={1:.6f}#map=17/{0:.6f}/{1:.6f}".format(
            venue.venue["location"]["latitude"], venue.venue["location"]["longitude"]
        ),
    )
    await expect(pane.locator(".place.venue .place-title")).to_have_text(venue.venue["title"])

    # What a user types is text, never markup.
    await box.fill('<img src=x onerror="window.hacked=1"> <b>tebal</b>')
    await box.press("Enter")
    await citizen.reply()
    own = pane.locator(".message.from-user .text").last
    await expect(own).to_have_text('<img src=x onerror="window.hacked=1"> <b>tebal</b>')
    assert await pane.locator(".messages img, .message.from-user b").count() == 0
    assert await page.evaluate("window.hacked") is None

    assert problems == []
    await page.close()
