"""Text helpers for Telegram: HTML escaping, and splitting long messages the way Telegram counts.

Telegram's limits (bot/telegram_rules/limits.py: 4,096 for a message, 1,024 for a caption) are
in UTF-16 code units of the text left after the HTML is parsed: a tag counts nothing, ``&amp;``
counts one, an emoji two. Entities and lengths are read as bot/telegram_rules/html.py reads
them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.telegram_rules.html import decode_entity, utf16_len
from bot.telegram_rules.limits import TEXT_LIMIT

# A tag of our HTML; besides tags, a token is an entity or a single character (a code point: a
# surrogate pair is never cut because Python strings hold code points).
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?>")
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")


def escape(text: object) -> str:
    """Escape user or knowledge-base text for Telegram's HTML parse mode."""
    return html.escape(str(text), quote=False)


@dataclass(frozen=True)
class _Token:
    raw: str
    units: int  # what the token adds to the parsed text, in UTF-16 units
    opens: str | None = None  # tag name, for an opening tag
    closes: str | None = None  # tag name, for a closing tag
    space: bool = False  # a break is allowed after it
    newline: bool = False  # a preferred break is allowed after it


def _tokens(text: str) -> list[_Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        tag = _TAG.match(text, pos) if text[pos] == "<" else None
        entity = decode_entity(text, pos) if text[pos] == "&" else None
        if tag is not None:
            raw = tag.group()
            name = _TAG_NAME.match(raw).group(1).lower()  # type: ignore[union-attr]
            closing = raw.startswith("</")
            tokens.append(
                _Token(raw, 0, opens=None if closing else name, closes=name if closing else None)
            )
            pos = tag.end()
        elif entity is not None:
            decoded, end = entity
            tokens.append(_Token(text[pos:end], utf16_len(decoded), space=decoded.isspace()))
            pos = end
        else:
            char = text[pos]
            tokens.append(
                _Token(char, utf16_len(char), space=char.isspace(), newline=char == "\n")
            )
            pos += 1
    return tokens


def split_message(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of ``text`` (HTML) that each fit ``limit`` as Telegram counts it (a caption:
    ``limit=CAPTION_LIMIT``).

    A part ends at the last line break that fits, else at the last space, else anywhere
    between two characters; never inside a tag or an entity. Tags open at a cut are closed at
    the end of the part and opened again at the start of the next one, so every part parses on
    its own. Parts that would hold only white space are left out (Telegram refuses them).
    """
    return _split(text, limit)


def _split(text: str, limit: int) -> list[str]:
    tokens = _tokens(text)
    if sum(t.units for t in tokens) <= limit:
        return [text]
    parts: list[str] = []
    stack: list[_Token] = []  # tags open at the start of the current part
    index = 0
    while index < len(tokens):
        cut, units, best_line, best_space = index, 0, None, None
        while cut < len(tokens) and units + tokens[cut].units <= limit:
            units += tokens[cut].units
            cut += 1
            if tokens[cut - 1].newline:
                best_line = cut
            elif tokens[cut - 1].space:
                best_space = cut
        if cut < len(tokens):
            cut = best_line or best_space or cut
            # A tag opened just before the cut belongs with its content in the next part.
            while cut > index and tokens[cut - 1].opens is not None:
                cut -= 1
            if cut == index:  # only opening tags before an over-long character: keep going
                cut = index + 1
            while cut < len(tokens) and tokens[cut].closes is not None:
                cut += 1  # a closing tag right after the cut ends its entity in this part
        opened = [t.raw for t in stack]
        body = tokens[index:cut]
        for token in body:
            if token.opens is not None:
                stack.append(token)
            elif token.closes is not None and stack and stack[-1].opens == token.closes:
                stack.pop()
        part = "".join(opened) + "".join(t.raw for t in body)
        part += "".join(f"</{t.opens}>" for t in reversed(stack))
        if any(not t.space for t in body if t.units):
            parts.append(part)
        index = cut
    return parts


def html_to_plain(text: str) -> str:
    """Our own HTML (b, i, code, a) as plain text, for the console."""
    plain = re.sub(r"<a href=\"([^\"]*)\">([^<]*)</a>", r"\2 (\1)", text)
    plain = re.sub(r"</?(b|i|u|s|code|pre|blockquote)>", "", plain)
    return html.unescape(plain)
