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

from bot.config import load_settings  # noqa: E402
from bot.offline import serve_offline  # noqa: E402
from tests.browser import launch  # noqa: E402

OUTPUT = REPO / "docs" / "webchat.png"
PHONE = {"width": 420, "height": 1180}


async def conversation(url: str) -> None:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, locale="id-ID")
        await page.goto(url)
        await page.fill("#new-name", "Sari")
        await page.click("#user-create")
        pane = page.locator(".pane.active")
        box = pane.locator(".text-input")
        await box.fill("/start")
        await box.press("Enter")
        await expect(pane.locator(".inline-button").first).to_be_visible()
        await box.fill("syarat bikin ktp apa aja?")
        await box.press("Enter")
        await expect(pane.locator(".message.from-bot")).to_have_count(2)
        await box.fill("kantornya di mana ya")
        await box.press("Enter")
        await expect(pane.locator(".place.venue")).to_have_count(1)
        await expect(pane.locator(".message.from-bot")).to_have_count(4)
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
