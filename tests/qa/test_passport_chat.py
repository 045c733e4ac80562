"""End to end: the passport's fee variants of PP 45/2024 asked in both languages, its time
without a promise for lost or damaged passports, and the SKCK's photos."""

from __future__ import annotations

PRICES_ID = [
    "Paspor biasa (non-elektronik) 5 tahun: <b>Rp350.000</b>",
    "Paspor biasa (non-elektronik) 10 tahun: <b>Rp650.000</b>",
    "Paspor elektronik 5 tahun: <b>Rp650.000</b>",
    "Paspor elektronik 10 tahun: <b>Rp950.000</b>",
]
PRICES_EN = [
    "Ordinary (non-electronic) passport, 5 years: <b>Rp350.000</b>",
    "Ordinary (non-electronic) passport, 10 years: <b>Rp650.000</b>",
    "Electronic passport, 5 years: <b>Rp650.000</b>",
    "Electronic passport, 10 years: <b>Rp950.000</b>",
]


async def test_passport_variants_in_indonesian(bot):
    citizen = bot.user(2101, first_name="Budi", language_code="id")
    for question in ("biaya paspor", "paspor elektronik 10 tahun berapa", "e-paspor 5 tahun brp",
                     "harga paspor 10 tahun", "bayar paspor non elektronik 5 thn berapa",
                     "biaya paspor yang berlaku 10 tahun"):
        await citizen.send(question)
        fee = await citizen.reply()
        assert fee.text.startswith("Paspor · Biaya"), question
        assert all(price in fee.html for price in PRICES_ID), question
        assert "Beban paspor hilang (ditambah biaya paspor baru): <b>Rp1.000.000</b>" in fee.html
        assert "Dasar hukum: PP No. 45 Tahun 2024" in fee.html

    await citizen.send("paspor 10 tahun")
    card = await citizen.reply()
    assert card.text.startswith("Paspor\n")
    assert "berlaku 5 atau 10 tahun sesuai pilihan Anda" in card.text

    await citizen.send("berapa lama bikin paspor")
    time = await citizen.reply()
    assert "Selesai dalam <b>3 hari kerja</b>." in time.html
    assert "• Penggantian paspor hilang atau rusak: Janji 3 hari kerja tidak berlaku" in time.html

    # Other answers of the service are as before.
    await citizen.send("syarat paspor")
    requirements = await citizen.reply()
    assert requirements.text.startswith("Paspor · Persyaratan")
    assert "• Surat keterangan kehilangan dari kepolisian atau paspor yang rusak" in (
        requirements.text)
    await citizen.send("loket paspor dimana")
    pin, where = await citizen.replies(2)
    assert pin.method == "sendVenue"
    assert "Loket 12-13" in where.text and "Lantai 2" in where.text


async def test_passport_variants_in_english(bot):
    citizen = bot.user(2102, first_name="Anna", language_code="en")
    for question in ("how much is a 5-year e-passport", "10 year passport price",
                     "passport fee", "cost of an electronic passport valid 10 years"):
        await citizen.send(question)
        fee = await citizen.reply()
        assert fee.text.startswith("Passport · Fee"), question
        assert all(price in fee.html for price in PRICES_EN), question
        assert "First passport of a prospective Indonesian migrant worker: <b>free</b>" in (
            fee.html)

    await citizen.send("how long is a passport valid")
    validity = await citizen.reply()
    assert validity.text.startswith("Passport · What you receive")
    assert "valid 5 or 10 years as you choose" in validity.text


async def test_skck_asks_for_five_photos(bot):
    citizen = bot.user(2103, first_name="Rina", language_code="id")
    await citizen.send("syarat skck")
    answer = await citizen.reply()
    assert "Pas foto berwarna 4x6 latar merah sebanyak 5 lembar" in answer.text
    assert "6 lembar" not in answer.text
