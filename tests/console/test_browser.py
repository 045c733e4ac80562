"""The staff console in headless Chromium against the real bot: an officer signs in with the
link the bot gave in the chat, moves an application on and answers a complaint; the citizen's
chat gets both; an officer of another unit cannot open the complaint by its URL."""

from __future__ import annotations

import pytest

from bot.core.i18n import Translator
from tests.support.console import (
    ADMIN,
    CITIZEN,
    MASKED_NIK,
    NIK,
    OFFICER,
    OTHER_OFFICER,
    PHONE,
    STORY_WITH_NUMBERS,
    SUPERVISOR,
    application_with_follower,
    citizen_in_chat,
    complaint,
    knowledge_copy,
    link_from_chat,
    start_console,
    survey_answers,
)

pytestmark = pytest.mark.browser



async def test_an_officer_works_in_the_console(browser, make_bot, database_url):
    from playwright.async_api import expect

    expect.set_options(timeout=10_000)  # a busy CI machine
    bot = await start_console(make_bot, database_url)
    citizen = await citizen_in_chat(bot)
    application = application_with_follower(bot)
    ticket = complaint(bot)

    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await desk.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    await page.goto(await link_from_chat(bot, OFFICER))
    await page.click("#sign-in")
    await expect(page).to_have_url(f"{bot.server.base_url}/console/")

    # Find the application by the applicant's name and move it on.
    await page.get_by_role("link", name="Permohonan").first.click()
    await page.fill("input[name=q]", "wulandari")
    await page.get_by_role("button", name="Cari").click()
    await page.get_by_role("link", name=application.display_number).click()
    await page.select_option("#new-status", "in_verification")
    await page.click("#change-status")
    await expect(page.locator("[role=status]")).to_be_visible()
    await expect(page.locator("#status")).to_have_text(Translator("id").gettext("In verification"))
    notice = await citizen.reply(timeout=10)
    assert application.display_number in notice.text

    # Answer the complaint from the queue; its text shows as text, not as a script.
    await page.goto(f"{bot.server.base_url}/console/complaints")
    await page.get_by_role("link", name=ticket.ticket).click()
    await expect(page.locator("#card")).to_contain_text("<script>alert(1)</script>")
    await page.fill("#reply-body", "Terima kasih, laporan Anda sedang kami periksa.")
    await page.click("#reply")
    await expect(page.locator("[role=status]")).to_be_visible()
    answer = await citizen.reply(timeout=10)
    assert "Terima kasih, laporan Anda sedang kami periksa." in answer.text

    # An officer of another unit, by the complaint's URL: 403 and nothing of it.
    other = await browser.new_context(viewport={"width": 390, "height": 844})
    phone = await other.new_page()
    await phone.goto(await link_from_chat(bot, OTHER_OFFICER))
    await phone.click("#sign-in")
    refused = await phone.goto(f"{bot.server.base_url}/console/complaints/{ticket.id}")
    assert refused.status == 403
    body = await phone.content()
    assert ticket.ticket not in body and "Petugas loket" not in body
    # The console fits a phone's width.
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await other.close()

    # Sign out everywhere: the desk's session is gone too.
    await page.goto(f"{bot.server.base_url}/console/")
    await page.click("#sign-out-everywhere")
    answer = await page.goto(f"{bot.server.base_url}/console/applications")
    assert answer.status == 401
    assert not problems
    await desk.close()


async def test_the_tickets_officer_presses_show_and_reads_the_nik_whole(browser, make_bot,
                                                                     database_url):
    from playwright.async_api import expect
    from sqlmodel import select

    from bot.core.models import AuditEntry

    expect.set_options(timeout=10_000)  # a busy CI machine
    bot = await start_console(make_bot, database_url)
    ticket = complaint(bot, description=STORY_WITH_NUMBERS)
    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await desk.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(await link_from_chat(bot, OFFICER))
    await page.click("#sign-in")
    url = f"{bot.server.base_url}/console/complaints/{ticket.id}"
    await page.goto(url)
    await expect(page.locator("#card")).to_contain_text(MASKED_NIK)
    await expect(page.locator("#reveal")).to_have_count(0)  # not taken yet: no button

    await page.click("#take")
    await expect(page.locator("[role=status]")).to_be_visible()
    await page.click("#reveal")
    card = page.locator("#card")
    await expect(card).to_contain_text(f"NIK saya {NIK}, hubungi {PHONE}.")
    await expect(card).not_to_contain_text(MASKED_NIK)
    # The citizen's words, whole, are still text: the script shows, it does not run.
    await expect(card).to_contain_text("<script>alert(1)</script>")
    assert await page.locator("#card script").count() == 0
    await expect(page.locator("#revealed")).to_be_visible()
    await expect(page.locator("#reveal")).to_have_count(0)
    with bot.rt.db.session() as s:
        audited = s.exec(select(AuditEntry).where(
            AuditEntry.action == "complaint.revealed")).all()
        assert [(a.actor_id, a.subject, a.detail) for a in audited] == [
            (OFFICER, ticket.ticket, {"channel": "console"})]

    # Opened again, the page is masked: the whole text was for that one response.
    await page.goto(url)
    await expect(page.locator("#card")).to_contain_text(MASKED_NIK)
    assert NIK not in await page.content()
    assert not problems
    await desk.close()


async def test_an_admin_edits_a_fee_and_citizens_see_the_index(browser, make_bot, database_url,
                                                              tmp_path):
    from playwright.async_api import expect

    expect.set_options(timeout=10_000)  # a busy CI machine
    bot = await start_console(make_bot, database_url, knowledge_dir=knowledge_copy(tmp_path))
    citizen = await citizen_in_chat(bot)
    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await desk.new_page()
    page.set_default_timeout(10_000)
    await page.goto(await link_from_chat(bot, ADMIN))
    await page.click("#sign-in")
    await page.get_by_role("link", name="Basis pengetahuan").first.click()
    await page.get_by_role("link", name="SKCK (Surat Keterangan Catatan Kepolisian)").click()
    await page.fill("#fee", "35000")
    await page.click("#check")
    await expect(page.locator("#preview-fee-id")).to_contain_text("Biaya: Rp35.000")
    # English groups digits with commas.
    await expect(page.locator("#preview-fee-en")).to_contain_text("Fee: Rp35,000")
    await page.click("#save")
    await expect(page.locator("[role=status]")).to_contain_text("Tersimpan")
    await citizen.send("biaya skck")
    assert "Rp35.000" in (await citizen.reply(timeout=10)).text
    await desk.close()

    # The public page on a phone: the index, its grade and the 9 elements, no login.
    survey_answers(bot, 7001, "ktp-el", [4, 4, 3, 4, 4, 4, 4, 3, 4], count=5)
    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    public = await phone.new_page()
    await public.goto(f"{bot.server.base_url}/ikm")
    await expect(public.locator(".headline .index")).to_have_text("94,44")
    await expect(public.locator(".bars li")).to_have_count(9)
    assert await public.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.close()


async def test_a_supervisor_turns_a_question_into_an_answer(browser, make_bot, database_url,
                                                            tmp_path):
    from playwright.async_api import expect

    expect.set_options(timeout=10_000)  # a busy CI machine
    bot = await start_console(make_bot, database_url, knowledge_dir=knowledge_copy(tmp_path))
    citizen = await citizen_in_chat(bot)
    asked = "di mana mushola di gedung ini?"
    answer = "Mushola ada di lantai 2, di samping ruang tunggu."
    await citizen.send(asked)
    assert "belum memahami" in (await citizen.reply(timeout=10)).text

    desk = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await desk.new_page()
    page.set_default_timeout(10_000)
    await page.goto(await link_from_chat(bot, SUPERVISOR))
    await page.click("#sign-in")
    await page.get_by_role("link", name="Pertanyaan belum terjawab").first.click()
    row = page.locator("#questions tbody tr", has_text=asked)
    await expect(row).to_have_count(1)
    await row.get_by_role("link", name="Jawab").click()
    await expect(page.locator("#title-id")).to_have_value(asked)
    await page.fill("#entry-id", "mushola")
    await page.fill("#title-id", "Di mana mushola?")
    await page.fill("#keywords-id", "mushola, musholla, tempat sholat")
    await page.fill("#answer-id", answer)
    await page.fill("#title-en", "Where is the prayer room?")
    await page.fill("#keywords-en", "prayer room")
    await page.fill("#answer-en", "On the first floor, beside the waiting room.")
    await page.click("#entry-check")
    # The chat's answer to the citizen's own question, in both languages, before saving.
    await expect(page.locator("#answer-id")).to_contain_text(answer)
    await expect(page.locator("#answer-en")).to_contain_text("On the first floor")
    await page.click("#save")
    await expect(page.locator("[role=status]")).to_be_visible()
    await expect(page.locator("#questions")).not_to_contain_text(asked)
    await desk.close()

    await citizen.send(asked)
    assert answer in (await citizen.reply(timeout=10)).text


async def test_a_supervisor_closes_a_slot_and_the_booked_citizen_is_told(browser, make_bot,
                                                                         database_url):
    from playwright.async_api import expect

    from bot.queue.service import book
    from handlers.outbox_delivery import drain_outbox
    from tests.support.queue import MONDAY, TUESDAY, TestClock, at

    expect.set_options(timeout=10_000)  # a busy CI machine
    bot = await start_console(make_bot, database_url)
    citizen = await citizen_in_chat(bot)
    clock = TestClock(bot.rt, at(bot.rt, MONDAY, 7, 0))
    with bot.rt.db.session() as s:
        booking = book(s, bot.rt, user_id=CITIZEN, language="id", service_id="ktp-el",
                       day=TUESDAY, start="10:00", priority_reason=None)
    clock.set(at(bot.rt, TUESDAY, 7, 0))

    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await phone.new_page()
    page.set_default_timeout(10_000)
    await page.goto(await link_from_chat(bot, SUPERVISOR))
    await page.click("#sign-in")
    await page.get_by_role("link", name="Antrean").first.click()
    await expect(page.locator("#day")).to_have_text("Selasa, 23 Maret 2027")
    slot = page.locator("#slot-ktp-el-1000")
    await expect(slot.locator("td").nth(3)).to_have_text("1")  # taken
    await slot.get_by_role("button", name="Tutup").click()
    await expect(page.locator("#close-summary")).to_contain_text("1 warga")
    await page.click("#confirm-close")
    await expect(page.locator("[role=status]")).to_contain_text("1 slot ditutup")
    await expect(page.locator("#slot-ktp-el-1000")).to_contain_text("Ditutup")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.close()

    for _ in range(3):
        await drain_outbox(bot.app, bot.rt, now=clock.advance(seconds=2))
    told = await citizen.reply(timeout=10)
    assert "menutup layanan KTP Elektronik (KTP-el) pada Selasa, 23 Maret 2027" in told.text
    assert told.labels == [f"📅 Pindahkan {booking.code}"]
