"""Answers: rupiah formatting, free services with legal basis, escaping, venues, abstaining."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import PROJECT_ROOT
from bot.core.i18n import Translator
from bot.qa.answers import render_answer, render_topic
from bot.qa.loader import load_knowledge
from bot.qa.matching import Match

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(PROJECT_ROOT / "knowledge")


def _answer(kb, service, topic, locale="id"):
    return render_answer(kb, Match(service, topic, 100.0), Translator(locale), JAKARTA)


def test_passport_fee_in_whole_rupiah_with_variants_and_basis(kb):
    html = _answer(kb, "paspor", "fee").html
    # PP 45/2024: by type and validity, the four prices for the citizen to choose from.
    prices = ["Paspor biasa (non-elektronik) 5 tahun: <b>Rp350.000</b>",
              "Paspor biasa (non-elektronik) 10 tahun: <b>Rp650.000</b>",
              "Paspor elektronik 5 tahun: <b>Rp650.000</b>",
              "Paspor elektronik 10 tahun: <b>Rp950.000</b>"]
    assert [html.index(price) for price in prices] == sorted(html.index(p) for p in prices)
    assert "percepatan (selesai hari yang sama): <b>Rp1.000.000</b>" in html
    assert "Beban paspor hilang (ditambah biaya paspor baru): <b>Rp1.000.000</b>" in html
    assert "Beban paspor rusak (ditambah biaya paspor baru): <b>Rp500.000</b>" in html
    assert "Paspor pertama calon Pekerja Migran Indonesia: <b>gratis</b>" in html
    assert "PP No. 45 Tahun 2024 Pasal 5" in html
    assert "48 halaman" not in html and "28 Tahun 2019" not in html
    assert ",00" not in html
    assert "Dasar hukum: PP No. 45 Tahun 2024" in html
    en = _answer(kb, "paspor", "fee", "en").html
    assert "Electronic passport, 5 years: <b>Rp650,000</b>" in en
    assert "Legal basis: Government Regulation 45/2024" in en


def test_lost_passport_is_not_promised_the_offices_three_days(kb):
    html = _answer(kb, "paspor", "duration").html
    assert "Selesai dalam <b>3 hari kerja</b>." in html
    assert "batas dalam peraturan 4 hari kerja" in html
    lost = html.split("• Penggantian paspor hilang atau rusak: ", 1)[1]
    assert lost.startswith("Janji 3 hari kerja tidak berlaku;")
    assert "<b>" not in lost  # no time promised for it
    en = _answer(kb, "paspor", "duration", "en").html
    assert "• Replacing a lost or damaged passport: The 3-working-day promise does not apply" in en
    assert "⏱ Time: 3 working days (not for every case)" in _answer(kb, "paspor", "overview",
                                                                    "en").html
    assert "(not for every case)" not in _answer(kb, "skck", "overview", "en").html


def test_english_fee_answer(kb):
    html = _answer(kb, "sim", "fee", "en").html
    assert html.startswith("<b>Driving licence (SIM)</b> · Fee")
    assert "New class C licence: <b>Rp100,000</b>" in html
    assert "Legal basis: Government Regulation 76/2020" in html


def test_free_service_says_free_and_why(kb):
    html = _answer(kb, "ktp-el", "fee").html
    assert "<b>Gratis, tidak dipungut biaya.</b>" in html
    assert "Dasar hukum: UU No. 24 Tahun 2013 Pasal 79A" in html
    en = _answer(kb, "ktp-el", "fee", "en").html
    assert "<b>Free of charge.</b>" in en and "Legal basis: Law 24/2013 art. 79A" in en


def test_fee_set_by_regulation_is_explained_not_invented(kb):
    html = _answer(kb, "pbg", "fee").html
    assert "Rp" not in html.split("Dasar hukum")[0].replace("Retribusi", "")
    assert "luas bangunan x indeks terintegrasi" in html


def test_durations_say_working_days(kb):
    assert "Selesai dalam <b>3 hari kerja</b>." in _answer(kb, "paspor", "duration").html
    assert "Completed within <b>3 working days</b>." in _answer(
        kb, "paspor", "duration", "en").html
    assert "<b>1 working day</b>" in _answer(kb, "skck", "duration", "en").html
    assert "<b>14 calendar days</b>" in _answer(kb, "bpjs-kesehatan", "duration", "en").html


def test_location_has_counter_floor_hours_and_a_venue(kb):
    answer = _answer(kb, "paspor", "location")
    assert "Loket 12-13" in answer.html and "Lantai 2" in answer.html
    assert "Senin–Kamis: 08:00-14:00" in answer.html
    assert answer.venue == {
        "latitude": kb.office.lat, "longitude": kb.office.lon,
        "title": kb.office.name, "address": kb.office.address,
    }
    hospital = _answer(kb, "rawat-jalan", "location", "en").venue
    assert hospital["latitude"] == kb.services["rawat-jalan"].location.lat
    assert hospital["title"] == "Outpatient department, Kota Harapan city hospital"


def test_office_hours_per_weekday(kb):
    html = _answer(kb, "office", "hours", "en").html
    assert "Monday–Thursday: 08:00-15:00" in html
    assert "Friday: 08:00-11:30, 13:00-15:00" in html
    assert "Saturday–Sunday: closed" in html
    office_location = _answer(kb, "office", "location")
    assert office_location.venue["title"] == kb.office.name


def test_abstaining_suggests_services(kb):
    answer = render_answer(
        kb, Match(None, None, 0.0, ["akta-kelahiran", "akta-kematian"]), Translator("en"),
        JAKARTA,
    )
    assert answer.html.startswith("Sorry, I am not sure what you are asking about.")
    assert "• Birth certificate" in answer.html
    assert answer.suggestions == ["akta-kelahiran", "akta-kematian"]
    assert answer.venue is None


def test_knowledge_text_is_escaped(kb, tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", target)
    path = target / "services" / "skck.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("product: {id: SKCK (berlaku 6 bulan)",
                        "product: {id: \"SKCK <b>asli</b> & salinan > 1\"")
    text = text.replace("Loket 14", "Loket <14> & 15")
    path.write_text(text, encoding="utf-8")
    tricky = load_knowledge(target)
    product = render_topic(tricky, tricky.services["skck"], "product", Translator("id"), JAKARTA)
    assert "SKCK &lt;b&gt;asli&lt;/b&gt; &amp; salinan &gt; 1" in product.html
    where = render_topic(tricky, tricky.services["skck"], "location", Translator("id"), JAKARTA)
    assert "Loket &lt;14&gt; &amp; 15" in where.html
    assert "<14>" not in where.html


@pytest.mark.parametrize("topic", ["requirements", "procedure", "fee", "duration", "location",
                                   "hours", "product", "overview"])
def test_every_topic_of_every_service_renders_in_both_languages(kb, topic):
    for service in kb.services.values():
        for locale in ("id", "en"):
            html = render_topic(kb, service, topic, Translator(locale), JAKARTA).html
            assert html.startswith(f"<b>{service.name(locale)}</b>".replace("&", "&amp;"))
            assert len(html) < 4096


def test_hours_list_the_office_closures_ahead(kb):
    tr = Translator("id")
    december = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
    html = render_answer(kb, Match("office", "hours", 90.0), tr, JAKARTA, now=december).html
    assert "Tutup pada hari libur nasional dan cuti bersama." in html
    assert ("Juga tutup pada 31 Desember 2026: Tutup buku akhir tahun dan pemeliharaan sistem"
            in html)
    june = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    assert "Juga tutup" not in render_answer(
        kb, Match("office", "hours", 90.0), tr, JAKARTA, now=june).html
    en = render_answer(kb, Match("skck", "hours", 100.0), Translator("en"), JAKARTA,
                       now=december).html
    assert "Also closed on 31 December 2026: Year-end closing and system maintenance" in en
