"""The web chat page in headless Chromium, against the real bot: a citizen's first minutes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser



async def test_a_citizen_chats_in_the_browser(browser, bot_sqlite):
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


async def _open_chat(page, base_url: str, user_id: int, name: str):  # noqa: ANN001, ANN202
    await page.goto(base_url)
    await page.fill("#new-name", name)
    await page.fill("#new-id", str(user_id))
    await page.click("#user-create")
    pane = page.locator(f"#pane-{user_id}")
    await pane.wait_for()
    return pane


async def test_the_page_shows_what_a_telegram_client_shows(browser, bot_sqlite):
    """Formatting built from entities (never markup), edits in place, reply keyboards, files."""
    from playwright.async_api import expect

    from tests.support.e2e import PNG_1PX

    emulator = bot_sqlite.emulator
    page = await browser.new_page(viewport={"width": 1000, "height": 800})
    page.set_default_timeout(8_000)
    pane = await _open_chat(page, bot_sqlite.server.base_url, 77, "Budi")
    citizen = bot_sqlite.user(77)
    box = pane.locator(".text-input")
    await box.fill("/start")
    await box.press("Enter")
    await citizen.reply()

    # What the bot could send, sent straight to the emulator as the bot would.
    sent = await emulator.call(
        "sendMessage",
        {
            "chat_id": 77,
            "parse_mode": "HTML",
            "text": '<b>Tebal</b> <i>miring <u>garis</u></i> <s>coret</s> <code>&lt;b&gt;</code>\n'
            '<pre>kode</pre><blockquote>kutipan</blockquote> <a href="https://example.org/">'
            'tautan</a> <a href="javascript:alert(1)">jahat</a> &lt;img src=x&gt; Ketik /help',
            "reply_markup": {"keyboard": [["Ya", "Tidak"]], "one_time_keyboard": True},
        },
    )
    assert (await citizen.reply()).message_id == sent["message_id"]
    message = pane.locator(f'.message[data-message-id="{sent["message_id"]}"]')
    text = message.locator(".text")
    await expect(text.locator("strong")).to_have_text("Tebal")
    await expect(text.locator("em u")).to_have_text("garis")
    await expect(text.locator("s")).to_have_text("coret")
    await expect(text.locator("code")).to_have_text("<b>")
    await expect(text.locator("pre")).to_have_text("kode")
    await expect(text.locator("blockquote")).to_have_text("kutipan")
    await expect(text.locator("a")).to_have_count(1)
    await expect(text.locator("a")).to_have_attribute("href", "https://example.org/")
    await expect(text).to_contain_text("jahat <img src=x>")
    assert await text.locator("img, b").count() == 0
    # A /command in the text is a button that sends it, as in Telegram's apps.
    await text.locator(".link-command").click()
    await expect(pane.locator(".message.from-user .text").last).to_have_text("/help")
    help_text = await citizen.reply()
    await expect(pane.locator(".message.from-bot .text").last).to_have_text(help_text.text)

    # An edit replaces the message where it stands.
    await emulator.call(
        "editMessageText",
        {"chat_id": 77, "message_id": sent["message_id"], "text": "Sudah diubah"},
    )
    assert (await citizen.reply()).edited
    await expect(message.locator(".text")).to_have_text("Sudah diubah")
    await expect(message.locator(".edited")).to_be_visible()
    await expect(pane.locator(".message.from-bot")).to_have_count(3)

    # The reply keyboard: pressing a key sends its text, and a one-time keyboard goes away.
    keyboard = pane.locator(".reply-keyboard")
    await expect(keyboard.locator(".key")).to_have_text(["Ya", "Tidak"])
    await keyboard.get_by_role("button", name="Ya").click()
    await expect(pane.locator(".message.from-user .text").last).to_have_text("Ya")
    await expect(keyboard).to_be_hidden()
    await citizen.reply()

    # A photo shown inline from the emulator, a document as a download link.
    await emulator.call("sendPhoto", {"chat_id": 77, "photo": "attach://p"}, {
        "p": _upload("peta.png", PNG_1PX, "image/png"),
    })
    await emulator.call("sendDocument", {"chat_id": 77, "caption": "Formulir"}, {
        "document": _upload("formulir.pdf", b"%PDF-1.4 formulir", "application/pdf"),
    })
    photo = pane.locator(".message.from-bot img.photo")
    await expect(photo).to_have_count(1)
    assert await photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1
    document = pane.locator(".message.from-bot a.document")
    await expect(document).to_have_attribute("download", "formulir.pdf")
    href = await document.get_attribute("href")
    response = await page.request.get(bot_sqlite.server.base_url + href)
    assert await response.body() == b"%PDF-1.4 formulir"

    # The user sends a photo from the file picker.
    await pane.locator(".attach-button").click()
    await pane.locator(".file").set_input_files(
        files=[{"name": "ktp.png", "mimeType": "image/png", "buffer": PNG_1PX}]
    )
    await pane.locator(".caption").fill("foto KTP")
    await pane.locator(".send-file").click()
    mine = pane.locator(".message.from-user").last
    await expect(mine.locator(".text")).to_have_text("foto KTP")
    await expect(mine.locator("img.photo")).to_have_count(1)
    assert emulator.chat_events(77, kinds=("user",))[-1].message["caption"] == "foto KTP"
    await citizen.replies(3)  # the photo, the document, the answer to the user's photo
    await page.close()


def _upload(name: str, data: bytes, mime: str):  # noqa: ANN202 - bot.emulator.Upload
    from bot.emulator import Upload

    return Upload(filename=name, data=data, content_type=mime)


async def test_a_group_where_any_open_user_writes(browser, bot_sqlite):
    from playwright.async_api import expect

    emulator = bot_sqlite.emulator
    page = await browser.new_page(viewport={"width": 900, "height": 700})
    page.set_default_timeout(8_000)
    await _open_chat(page, bot_sqlite.server.base_url, 31, "Rina")
    await page.click("#add-user")
    await page.click(".new-group summary")
    await page.fill("#group-title", "Petugas loket")
    await page.fill("#group-id", "-100555")
    await page.click("#group-create")
    group = page.locator("#pane--100555")
    await expect(group).to_be_visible()
    assert emulator.chats[-100555]["title"] == "Petugas loket"
    await expect(group.locator(".sender option")).to_have_text(["Rina (31)"])

    box = group.locator(".text-input")
    await box.fill("halo semua")
    await box.press("Enter")
    await expect(group.locator(".message.from-user .sender-name")).to_have_text("Rina")
    written = emulator.chat_events(-100555, kinds=("user",))
    assert [(e.message["from"]["id"], e.message["text"]) for e in written] == [(31, "halo semua")]

    await emulator.call("sendMessage", {"chat_id": -100555, "text": "Antrean A-012 dipanggil"})
    await expect(group.locator(".message.from-bot .text")).to_have_text(["Antrean A-012 dipanggil"])
    await page.close()
