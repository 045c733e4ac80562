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
    "Ordinary (non-electronic) passport, 5 years: <b>Rp350,000</b>",
    "Ordinary (non-electronic) passport, 10 years: <b>Rp650,000</b>",
    "Electronic passport, 5 years: <b>Rp650,000</b>",
    "Electronic passport, 10 years: <b>Rp950,000</b>",
]
# A question naming a kind or a validity gets the fee lines it fits (bot/conversation), every
# line when it names none: question -> the indexes in PRICES_* answered.
ASKED_ID = {
    "biaya paspor": (0, 1, 2, 3),
    "paspor elektronik 10 tahun berapa": (3,),
    "e-paspor 5 tahun brp": (2,),
    "harga paspor 10 tahun": (1, 3),
    "bayar paspor non elektronik 5 thn berapa": (0,),
    "biaya paspor yang berlaku 10 tahun": (1, 3),
}
ASKED_EN = {
    "how much is a 5-year e-passport": (2,),
    "10 year passport price": (1, 3),
    "passport fee": (0, 1, 2, 3),
    "cost of an electronic passport valid 10 years": (3,),
}


async def test_passport_variants_in_indonesian(bot):
    citizen = bot.user(2101, first_name="Budi", language_code="id")
    for question, asked in ASKED_ID.items():
        await citizen.send(question)
        fee = await citizen.reply()
        assert fee.text.startswith("Paspor · Biaya"), question
        assert [n for n, price in enumerate(PRICES_ID) if price in fee.html] == list(asked), \
            question
        assert "Dasar hukum: PP No. 45 Tahun 2024" in fee.html
        if len(asked) == len(PRICES_ID):
            assert "Beban paspor hilang (ditambah biaya paspor baru): <b>Rp1.000.000</b>" in (
                fee.html)

    # Right after a fee, "paspor 10 tahun" follows it up (bot/conversation); asked afresh, it
    # names the product, not how long it takes.
    await citizen.send("paspor 10 tahun")
    follow_up = await citizen.reply()
    assert follow_up.text.startswith("Paspor · Biaya") and "Rp350.000" not in follow_up.text
    fresh = bot.user(2104, first_name="Sari", language_code="id")
    await fresh.send("paspor 10 tahun")
    card = await fresh.reply()
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
    for question, asked in ASKED_EN.items():
        await citizen.send(question)
        fee = await citizen.reply()
        assert fee.text.startswith("Passport · Fee"), question
        assert [n for n, price in enumerate(PRICES_EN) if price in fee.html] == list(asked), \
            question
        if len(asked) == len(PRICES_EN):
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
