"""The waiting-room board in headless Chromium, served by `servicebot offline` (the emulator's
server): calls appear within two seconds without a reload, with a chime; numbers and
counters only; large enough for a TV. The webhook server serves the same routes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.core.config import load_settings
from bot.offline import serve_offline

REPO = Path(__file__).resolve().parents[2]
OFFICER = 7001



@pytest.fixture
async def offline(tmp_path):  # noqa: ANN001, ANN201 - the offline server's base URL
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/board.db", knowledge_dir=REPO / "knowledge",
        admin_ids=[OFFICER], telegram_bot_token="",
    )
    address: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_offline(settings, port=0, ready=address.set_result, stop=stop))
    try:
        yield await asyncio.wait_for(address, 60)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _officer_says(client: httpx.AsyncClient, text: str) -> str:
    """The officer writes in the web chat; returns the bot's answer."""
    url = f"/_emulator/users/{OFFICER}/messages"
    last = (await client.get(url)).json()["last"]
    await client.post(url, json={"text": text})
    for _ in range(20):
        answer = (await client.get(url, params={"after": last, "timeout": 1})).json()
        last = answer["last"]
        replies = [e for e in answer["events"] if e["kind"] == "bot"]
        if replies:
            return replies[-1]["message"].get("text", "")
    pytest.fail(f"the bot did not answer {text!r}")


@pytest.mark.browser
async def test_the_board_shows_each_call_within_two_seconds_with_a_chime(browser, offline):
    from playwright.async_api import expect

    client = httpx.AsyncClient(base_url=offline)
    await client.post("/_emulator/users", json={"id": OFFICER, "first_name": "Budi Petugas",
                                                "language_code": "id"})
    assert "loket 3" in await _officer_says(client, "/loket 3")

    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(f"{offline}/papan")
    await expect(page.locator("#empty")).to_have_text("Belum ada nomor yang dipanggil.")
    await expect(page.locator("#called-title")).to_have_text("Sedang dipanggil")

    for _ in range(3):
        assert "Tanpa booking" in await _officer_says(client, "/walkin ktp-el")
    await expect(page.locator("#next li")).to_have_text(["001", "002", "003"], timeout=2000)

    await client.post(f"/_emulator/users/{OFFICER}/messages", json={"text": "/panggil"})
    first = page.locator(".call").first
    await expect(first.locator(".number")).to_have_text("001", timeout=2000)
    await expect(first.locator(".counter")).to_have_text("Loket 3")
    await expect(page.locator("body")).to_have_attribute("data-chimes", "1")
    await expect(page.locator("#next li")).to_have_text(["002", "003"])

    await client.post(f"/_emulator/users/{OFFICER}/messages", json={"text": "/panggil"})
    await expect(first.locator(".number")).to_have_text("002", timeout=2000)
    await expect(page.locator("body")).to_have_attribute("data-chimes", "2")
    await expect(page.locator(".call .number")).to_have_text(["002", "001"])

    # Readable across the room: the newest call is over a tenth of the screen's height.
    size = await first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 100
    # Nothing personal on the page: no names, no booking codes.
    body = await page.locator("body").inner_text()
    assert "Budi" not in body
    assert problems == []
    # The same state, in English, for a board that wants it.
    state = (await client.get("/papan/state", params={"lang": "en"})).json()
    assert state["labels"]["called"] == "Now calling" and state["next"] == ["003"]
    assert set(state["called"][0]) == {"number", "counter", "call"}
    await client.aclose()


async def test_the_webhook_server_serves_the_board_too(bot_sqlite):
    from bot.webhook.server import create_server_app

    app = create_server_app(bot_sqlite.rt, bot_sqlite.app, set_webhook=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://office") as client:
        page = await client.get("/board")
        assert page.status_code == 200 and 'id="calls"' in page.text
        state = (await client.get("/papan/state")).json()
    assert state["called"] == [] and state["labels"]["called"] == "Sedang dipanggil"
