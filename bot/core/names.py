"""Names as staff see them: without the invisible characters that can disguise or reorder
what is shown around them.

A right-to-left override (U+202E) in a Telegram name reverses the rest of the line it is shown
on, so "Sari (named)" can read as "(deman) iraS" and a label beside it can be flipped; zero-width
characters make two names that look alike differ, or hide text. Telegram lets users put both
in their names.
"""

from __future__ import annotations

import unicodedata


def clean_name(name: str | None) -> str:
    """``name`` without format characters (bidi overrides and isolates, zero-width spaces and
    joiners, byte-order marks: Unicode category Cf), lone surrogates or control characters,
    with white space collapsed. Emoji joined by a zero-width joiner fall apart into their parts;
    still legible. Also used for citizens' questions kept for staff (bot/feedback/log.py)."""
    if not name:
        return ""
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category in ("Cf", "Cs"):  # lone surrogates cannot even be stored (PostgreSQL)
            continue
        kept.append(" " if category == "Cc" else char)
    return " ".join("".join(kept).split())
