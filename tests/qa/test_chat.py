"""End to end: a citizen asks questions, browses services, gets a map pin, in two languages."""

from __future__ import annotations

import pytest

import handlers.qa
from handlers.common import MENU

MENU_DATA = [f"menu:{entry.key}" for entry in MENU]
UNKNOWN = "Tombol ini sudah tidak berlaku. Silakan mulai lagi dari menu."


async def test_citizen_asks_browses_and_switches_language(bot):
    kb = bot.rt.knowledge
    citizen = bot.user(2001, first_name="Sari", language_code="id")
    await citizen.send("/start")
    await citizen.reply()

    await citizen.send("brp biaya bikin paspor?")
    fee = await citizen.reply()
    assert fee.text.startswith("Paspor · Biaya")
    assert "Paspor biasa (non-elektronik) 5 tahun: <b>Rp350.000</b>" in fee.html
    # Under an answer: what other features offer for the service (the queue's booking), the
    # next likely steps for that service, the main menu, then the rating of the answer
    # (tests/feedback/test_chat.py).
    assert fee.buttons[:-2] == [
        ("🎫 Ambil antrean", "q:b:paspor"),  # a bookable service
        ("Persyaratan", "svc:topic:paspor:requirements"),
        ("Waktu penyelesaian", "svc:topic:paspor:duration"),
        ("Lokasi", "svc:topic:paspor:location"),
        ("Prosedur", "svc:topic:paspor:procedure"),
        ("☰ Menu utama", "cv:menu"),
    ]
    assert fee.labels[-2:] == ["👍", "👎"]
    await citizen.click("☰ Menu utama")
    menu = await citizen.reply()
    assert [data for _, data in menu.buttons] == MENU_DATA

    await citizen.send("syarat akte kelahiran apa aja")
    requirements = await citizen.reply()
    assert requirements.text.startswith("Akta Kelahiran · Persyaratan")
    assert "• Surat keterangan kelahiran" in requirements.text

    # The main menu's Services button and /layanan open the same list of categories.
    await citizen.click("menu:services")
    from_menu = await citizen.reply()
    assert from_menu.text == "Layanan kami\nSilakan pilih kategori:"

    # Browse: categories -> a category (edited in place) -> a service card -> a topic.
    await citizen.send("/layanan")
    categories = await citizen.reply()
    assert categories.text == from_menu.text and categories.buttons == from_menu.buttons
    assert categories.labels == [c.name.id for c in kb.office.categories]
    await citizen.click("Keimigrasian dan Kepolisian")
    category = await citizen.reply()
    assert category.edited and category.message_id == categories.message_id
    assert category.labels == ["Paspor", "SIM (Surat Izin Mengemudi)",
                               "SKCK (Surat Keterangan Catatan Kepolisian)", "⬅ Semua kategori"]
    await citizen.click("SIM (Surat Izin Mengemudi)")
    card = await citizen.reply()
    assert card.text.startswith("SIM (Surat Izin Mengemudi)\n")
    assert "💰 Biaya: Rp120.000" in card.text
    assert card.labels == ["Persyaratan", "Prosedur", "Biaya", "Waktu penyelesaian", "Lokasi",
                           "Jam pelayanan", "Produk layanan", "⬅ Kembali ke daftar"]
    assert all(len(data.encode()) < 64 for _, data in card.buttons)
    await citizen.click("Waktu penyelesaian")
    duration = await citizen.reply()
    assert "Selesai dalam <b>1 hari kerja</b>." in duration.html

    # Location: a map pin, then floor, counter and hours.
    await citizen.send("lokasi loket skck dimana?")
    pin, where = await citizen.replies(2)
    assert pin.method == "sendVenue"
    assert pin.venue["title"] == kb.office.name
    assert pin.venue["address"] == kb.office.address
    assert pin.venue["location"]["latitude"] == pytest.approx(kb.office.lat)
    assert "Loket 14" in where.text and "Lantai 2" in where.text
    assert "Senin–Kamis: 08:00-15:00" in where.text

    # Switch to English: the same kind of question is answered in English.
    await citizen.send("/bahasa")
    await citizen.reply()
    await citizen.click("🇬🇧 English")
    await citizen.replies(2)
    await citizen.send("how much is a police certificate")
    english = await citizen.reply()
    assert english.text.startswith("Police certificate (SKCK) · Fee")
    assert "Fee: <b>Rp30,000</b>" in english.html
    assert english.labels == ["🎫 Book a visit", "Requirements", "Time to complete", "Location",
                              "Procedure", "☰ Main menu", "👍", "👎"]
    await citizen.expect_silence()


async def test_out_of_scope_question_gets_suggestions_and_the_menu(bot_sqlite):
    tourist = bot_sqlite.user(2002, first_name="John", language_code="en")
    # Two services asked together: both answered, in one message.
    await tourist.send("birth or death certificate price?")
    both = await tourist.reply()
    assert both.text.startswith("Birth certificate · Fee")
    assert "Death certificate · Fee" in both.text
    # Unsure between readings: it asks with buttons ("Did you mean"), never guesses a fee.
    await tourist.send("certificate fee")
    unsure = await tourist.reply()
    assert unsure.text == "Sorry, I am not sure what you are asking about.\nDid you mean:"
    assert unsure.buttons[:2] == [("Fee · Birth certificate", "svc:topic:akta-kelahiran:fee"),
                                  ("Fee · Death certificate", "svc:topic:akta-kematian:fee")]
    assert len(unsure.buttons) <= 4 and unsure.buttons[-1] == ("☰ Main menu", "cv:menu")
    await tourist.click("Fee · Death certificate")
    fee = await tourist.reply()
    assert fee.text.startswith("Death certificate · Fee")
    assert "Free of charge." in fee.text

    await tourist.send("tell me a joke")
    nothing = await tourist.reply()
    assert "biaya paspor" in nothing.text
    # The main menu, then the way to a person (tests/feedback/test_chat.py).
    assert [data for _, data in nothing.buttons][:-1] == MENU_DATA
    assert nothing.labels[-1] == "🙋 Ask an officer"


async def test_office_hours_and_the_hospital_pin(bot_sqlite):
    kb = bot_sqlite.rt.knowledge
    citizen = bot_sqlite.user(2003, language_code="id")
    await citizen.send("jam buka kantor")
    hours = await citizen.reply()
    assert hours.text.startswith(kb.office.name)
    assert "Jumat: 08:00-11:30, 13:00-15:00" in hours.text
    await citizen.send("/layanan")
    await citizen.reply()
    await citizen.click("Kesehatan")
    await citizen.reply()
    await citizen.click("Rawat Jalan RSUD")
    await citizen.reply()
    await citizen.click("svc:topic:rawat-jalan:location")
    pin, where = await citizen.replies(2)
    hospital = kb.services["rawat-jalan"].location
    assert pin.venue["location"]["latitude"] == pytest.approx(hospital.lat)
    assert pin.venue["title"] == hospital.unit.id
    assert "Gedung A lantai 1" in where.text


async def test_paging_through_a_long_category(bot_sqlite, monkeypatch):
    monkeypatch.setattr(handlers.qa, "PAGE_SIZE", 4)
    citizen = bot_sqlite.user(2004, language_code="en")
    await citizen.send("/services")
    await citizen.reply()
    await citizen.click("Civil registration")
    first = await citizen.reply()
    assert len(first.labels) == 6  # four services, Next, All categories
    assert first.buttons[4] == ("Next ▶", "svc:cat:0:1")
    # Pressed again (a double tap): the page is already shown, which is no error.
    await citizen.forge_click("svc:cat:0:0")
    assert (await citizen.callback_answer())["show_alert"] is False
    await citizen.expect_silence()
    await citizen.click("Next ▶")
    second = await citizen.reply()
    assert second.labels[2:] == ["◀ Previous", "⬅ All categories"]
    shown = first.labels[:4] + second.labels[:2]
    assert len(set(shown)) == 6
    await citizen.click("⬅ All categories")
    back = await citizen.reply()
    assert back.text == "Our services\nChoose a category:"


async def test_forged_buttons_change_nothing(bot_sqlite):
    citizen = bot_sqlite.user(2005, language_code="id")
    await citizen.send("/layanan")
    await citizen.reply()
    for data in ("svc:card:nope", "svc:topic:paspor:gossip", "svc:topic:x:fee", "svc:cat:99:0",
                 "svc:cat:0:9", "svc:cat:a:b", "svc:card"):
        await citizen.forge_click(data)
        answer = await citizen.callback_answer()
        assert answer["show_alert"] is True, data
        assert answer["text"] == UNKNOWN, data
    await citizen.expect_silence()
