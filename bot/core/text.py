"""Text helpers for Telegram: HTML escaping and splitting long messages at line breaks."""

from __future__ import annotations

import html

from bot.telegram_rules.limits import TEXT_LIMIT


def escape(text: object) -> str:
    """Escape user or knowledge-base text for Telegram's HTML parse mode."""
    return html.escape(str(text), quote=False)


def split_message(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line breaks so each part fits; a single over-long line is cut hard.

    The caller's HTML tags must not span lines (ours never do), so each part stays valid.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]


def html_to_plain(text: str) -> str:
    """Our own HTML (b, i, code, a) as plain text, for the console."""
    import re

    plain = re.sub(r"<a href=\"([^\"]*)\">([^<]*)</a>", r"\2 (\1)", text)
    plain = re.sub(r"</?(b|i|u|s|code|pre|blockquote)>", "", plain)
    return html.unescape(plain)
