"""Every text of the console's templates has its Indonesian and English translation (the
catalog test of tests/core reads the Python code only)."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.config import PROJECT_ROOT
from bot.core.i18n import LOCALES_DIR

TEMPLATES = PROJECT_ROOT / "bot" / "console" / "templates"


def _messages_in_templates() -> set[str]:
    return {
        message[0] if isinstance(message, tuple) else message
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            TEMPLATES, method_map=[("**.html", "jinja2")],
            keywords={"_": None, "ngettext": (1, 2)},
        )
    }


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_template_text_is_translated(locale):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    found = _messages_in_templates()
    assert "Unanswered questions" in found and "Official report (XLSX)" in found
    missing = sorted(found - translated)
    assert not missing, f"{locale}: untranslated in the templates: {missing}"
