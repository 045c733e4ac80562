"""Answers: rupiah formatting, free services with legal basis, escaping, venues, abstaining."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.answers import render_answer, render_topic
from bot.config import PROJECT_ROOT
from bot.i18n import Translator
from bot.knowledge import load_knowledge
from bot.matching import Match

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(PROJECT_ROOT / "knowledge")


def _answer(kb, service, topic, locale="id"):
    return render_answer(kb, Match(service, topic, 100.0), Translator(locale), JAKARTA)


def test_passport_fee_in_whole_rupiah_with_variants_and_basis(kb):
    html = _answer(kb, "paspor", "fee").html
    assert "Paspor biasa 48 halaman: <b>Rp350.000</b>" in html
    assert "Paspor elektronik 48 halaman: <b>Rp650.000</b>" in html
    assert "Rp1.000.000" in html
    assert ",00" not in html
    assert "Dasar hukum: PP No. 28 Tahun 2019" in html


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
