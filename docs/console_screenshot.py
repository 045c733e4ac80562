"""Make docs/console.png and docs/ikm-public.png: the staff console's complaint queue on an
office PC and the public satisfaction index on a phone, in headless Chromium, against the real
bot with sample data.

Run from the repository root: ``.venv/bin/python docs/console_screenshot.py`` (needs Debian's
chromium and the test extras).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.async_api import async_playwright  # noqa: E402

from tests.support.browser import launch  # noqa: E402
from tests.support.console import (  # noqa: E402
    OFFICER,
    application_with_follower,
    complaint,
    link_from_chat,
    start_console,
    survey_answers,
)
from tests.support.e2e import BotHarness  # noqa: E402

STORIES = (
    "Antrean perekaman KTP-el sangat lama, saya menunggu lebih dari tiga jam tanpa kejelasan.",
    "Petugas meminta biaya tambahan untuk mempercepat pencetakan Kartu Keluarga saya.",
    "Papan informasi persyaratan akta kelahiran berbeda dengan yang diminta di loket.",
)


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async def make_bot(url: str, **settings: object) -> BotHarness:
            return await BotHarness(url, **settings).start()

        bot = await start_console(make_bot, f"sqlite:///{scratch}/screenshot.db")
        try:
            for story in STORIES:
                complaint(bot, description=story, privacy="named")
            complaint(bot, description="Toilet di ruang tunggu lantai 1 rusak sejak minggu lalu.")
            for _ in range(3):
                application_with_follower(bot, follower=None)
            survey_answers(bot, 9001, "ktp-el", [3, 3, 3, 4, 3, 3, 4, 3, 3], count=30)
            survey_answers(bot, 9002, "kartu-keluarga", [4, 3, 3, 4, 3, 4, 4, 3, 3], count=25)
            survey_answers(bot, 9003, "paspor", [3, 2, 2, 3, 3, 3, 3, 2, 3], count=4)
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                desk = await browser.new_page(viewport={"width": 1366, "height": 768})
                await desk.goto(await link_from_chat(bot, OFFICER))
                await desk.click("#sign-in")
                await desk.goto(f"{bot.server.base_url}/console/complaints")
                await desk.screenshot(path=str(REPO / "docs" / "console.png"))
                phone = await browser.new_page(viewport={"width": 390, "height": 844},
                                               device_scale_factor=2)
                await phone.goto(f"{bot.server.base_url}/ikm")
                await phone.screenshot(path=str(REPO / "docs" / "ikm-public.png"))
                await browser.close()
        finally:
            await bot.stop()
    print("wrote docs/console.png and docs/ikm-public.png")


if __name__ == "__main__":
    asyncio.run(main())
