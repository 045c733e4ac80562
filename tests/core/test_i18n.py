"""Every message in the code has a translation in both catalogs, and formatting is local."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.config import PROJECT_ROOT
from bot.core.i18n import LOCALES_DIR, Translator, format_money, normalize_locale

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def _messages_in_code() -> set[str]:
    ids: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            PROJECT_ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_message_is_translated(locale):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_messages_in_code() - translated)
    assert not missing, f"{locale}: untranslated or not in the catalog (make update): {missing}"


def test_compiled_catalog_is_used():
    assert Translator("id").gettext("Main menu") == "Menu utama"
    assert Translator("en").gettext("Main menu") == "Main menu"


def test_money_is_whole_rupiah():
    assert format_money(350000, "id") == "Rp350.000"
    assert format_money(1000000, "id") == "Rp1.000.000"
    assert format_money(30000, "en") == "Rp30,000"  # English grouping


def test_dates_in_office_timezone():
    moment = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)  # 01:30 next day in Jakarta
    assert Translator("id").date(moment, ZoneInfo("Asia/Jakarta")) == "25 November 2026"
    assert "Nov" in Translator("en").date(moment, ZoneInfo("Asia/Jakarta"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [("id", "id"), ("jv", "id"), ("su", "id"), ("ms", "id"), ("en", "en"), ("de", "en"),
     (None, "id"), ("pt-br", "en")],
)
def test_language_from_telegram(code, expected):
    assert normalize_locale(code) == expected
