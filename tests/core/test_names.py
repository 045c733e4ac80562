"""Names shown to staff carry no bidi overrides or zero-width characters (bot/core/names.py)."""

from __future__ import annotations

import unicodedata
from datetime import date

from bot.applications.service import register_application
from bot.complaints.handling import take
from bot.complaints.lists import ListFilter, list_for_staff
from bot.complaints.render import render_staff_card, render_staff_list
from bot.complaints.reports import export_rows
from bot.core.i18n import Translator
from bot.core.names import clean_name
from bot.people.staff_names import remember_staff_name
from tests.complaints.test_service import (  # noqa: F401 - rt is a fixture
    OFFICER_A,
    SUPERVISOR,
    file,
    outbox,
    rt,
    viewer,
)
from tests.support.applications import make_runtime

# Shown as "Sari <U+202E>(named)" a label after it reads reversed; zero-width ones hide.
HOSTILE = "Sa\u200bri\u200d \u202e(deman)\u202c\u2066x\u2069\ufeff\u200e\x07"


def _invisible(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cf", "Cc")
            and c != "\n"]


def test_clean_name_keeps_what_is_visible():
    assert clean_name(HOSTILE) == "Sari (deman)x"
    assert clean_name("  Siti\u00a0 Rahayu ") == "Siti Rahayu"
    assert clean_name("Budi 👍🏽") == "Budi 👍🏽"
    assert clean_name("\u202e\u200b") == "" and clean_name(None) == ""


def test_staff_never_see_invisible_characters_of_a_name(rt, db):  # noqa: F811
    tr = Translator("en")
    with db.session() as s:
        # An officer's own Telegram name is cleaned too, before colleagues see it.
        remember_staff_name(s, OFFICER_A, HOSTILE)
        c = file(rt, s, complainant_name=HOSTILE)
        assert c.complainant_name == "Sari (deman)x"
        take(s, rt, c, actor=viewer(s, OFFICER_A))
        # A row stored before names were cleaned is cleaned when shown.
        old = file(rt, s, complainant_name="Budi", complainant_id=5001)
        old.complainant_name = "Bu\u202edi\u200b"
        s.add(old)
        s.flush()
        shown = [
            render_staff_card(s, rt, c, tr, with_thread=True),
            render_staff_card(s, rt, old, tr),
            render_staff_list(
                s, rt, list_for_staff(s, viewer(s, SUPERVISOR), ListFilter(status="all")), tr
            ),
            *[str(m.payload) for m in outbox(s)],
            *[str(row) for row in export_rows(s, rt, date(2026, 11, 1), date(2026, 11, 30))],
        ]
    for text in shown:
        assert _invisible(text) == [], text
    assert "Budi" in shown[1] and "Sari (deman)x" in shown[0]
    assert "Dukcapil · Sari (deman)x" in shown[0]  # the officer who took it, by name


def test_applicant_names_are_cleaned(db):
    runtime = make_runtime(db)
    with db.session() as s:
        application = register_application(
            s, runtime, service_id="ktp-el", applicant_name=HOSTILE, actor_id=None, source="api"
        )
        assert application.applicant_name == "Sari (deman)x"
