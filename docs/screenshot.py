"""Make docs/webchat.png: a real conversation in the offline web chat, in headless Chromium.

Run from the repository root: ``.venv/bin/python docs/screenshot.py`` (needs Debian's chromium).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.async_api import async_playwright, expect  # noqa: E402

from bot.core.config import load_settings  # noqa: E402
from bot.offline import serve_offline  # noqa: E402
from tests.support.browser import launch  # noqa: E402

OUTPUT = REPO / "docs" / "webchat.png"
DESKTOP = {"width": 1240, "height": 940}


async def new_user(page, name: str, language: str):  # noqa: ANN001, ANN201 - Playwright types
    """Create a user in the dialog; the pane of their chat."""
    if not await page.locator("#user-dialog[open]").count():
        await page.click("#add-user")
    await page.fill("#new-name", name)
    await page.select_option("#new-language", language)
    user_id = await page.input_value("#new-id")
    await page.click("#user-create")
    pane = page.locator(f"#pane-{user_id}")
    await expect(pane).to_be_visible()
    return pane


async def say(pane, text: str) -> None:  # noqa: ANN001 - a Playwright Locator
    box = pane.locator(".text-input")
    await box.fill(text)
    await box.press("Enter")


async def conversation(url: str) -> None:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await browser.new_page(viewport=DESKTOP, device_scale_factor=1.5)
        page.set_default_timeout(10_000)
        await page.goto(url)
        await page.wait_for_selector("body[data-ready]")
        citizen = await new_user(page, "Sari", "id")
        await page.click("#layout-toggle")
        await say(citizen, "/start")
        await expect(citizen.locator(".inline-button").first).to_be_visible()
        await say(citizen, "biaya bikin ktp berapa?")
        await expect(citizen.locator(".message.from-bot")).to_have_count(2)
        visitor = await new_user(page, "John", "en")
        await say(visitor, "where is the office?")
        await expect(visitor.locator(".place.venue")).to_have_count(1)
        await expect(visitor.locator(".message.from-bot")).to_have_count(2)
        await page.evaluate("document.activeElement.blur()")
        await page.wait_for_timeout(300)  # the last scroll
        await page.screenshot(path=str(OUTPUT))
        await browser.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            database_url=f"sqlite:///{folder}/screenshot.db",
            knowledge_dir=REPO / "knowledge",
            telegram_bot_token="",
        )
        stop = asyncio.Event()
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(
            serve_offline(settings, port=0, ready=started.set_result, stop=stop)
        )
        try:
            await conversation(await started)
        finally:
            stop.set()
            await server
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
