"""Telegram's HTML parse mode, checked as strictly as Telegram: plain text plus message entities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Tag -> entity type. Telegram accepts exactly these tags (tdlib's parse_html); anything else
# ("br", "p", "div", ...) is an "Unsupported start tag" error.
TAG_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

# Telegram knows only these named entities; every numeric one is fine.
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" error; the message is Telegram's wording."""


@dataclass
class _Open:
    tag: str
    start: int  # in UTF-16 code units of the plain text, as Telegram counts offsets
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """The character of the entity at ``pos`` and the index after it, or None where Telegram
    sees no entity (then the '&' is literal text)."""
    match = _ENTITY.match(text, pos)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in NAMED_ENTITIES:
            return None
        return NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _parse_attributes(text: str, pos: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Attributes from ``pos`` up to the closing '>'; returns them and the index after '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[pos] == ">":
            return attrs, pos + 1
        name_start = pos
        while pos < n and not text[pos].isspace() and text[pos] not in "=>":
            pos += 1
        name = text[name_start:pos].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        while pos < n and text[pos].isspace():
            pos += 1
        if tag == "blockquote" and name == "expandable" and (pos >= n or text[pos] != "="):
            attrs[name] = ""  # the one attribute Telegram takes without a value
            continue
        if pos >= n or text[pos] != "=":
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte '
                f"offset {_byte_offset(text, begin)}"
            )
        pos += 1
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[pos] in "\"'":
            quote = text[pos]
            end = text.find(quote, pos + 1)
            if end < 0:
                raise EntityParseError(
                    f'Unclosed end tag at byte offset {_byte_offset(text, begin)}'
                )
            raw = text[pos + 1 : end]
            pos = end + 1
        else:
            value_start = pos
            while pos < n and (text[pos].isalnum() or text[pos] in ".-_:/?#=&%+~"):
                pos += 1
            raw = text[value_start:pos]
        attrs[name] = _unescape_attribute(raw)


def _unescape_attribute(raw: str) -> str:
    out = []
    pos = 0
    while pos < len(raw):
        if raw[pos] == "&":
            decoded = decode_entity(raw, pos)
            if decoded is not None:
                out.append(decoded[0])
                pos = decoded[1]
                continue
        out.append(raw[pos])
        pos += 1
    return "".join(out)


def _entity(open_tag: _Open, end: int) -> dict | None:
    kind = TAG_ENTITIES[open_tag.tag]
    entity: dict = {"type": kind, "offset": open_tag.start, "length": end - open_tag.start}
    if kind == "text_link":
        url = open_tag.attrs.get("href", "")
        if not url:
            return None  # Telegram drops a link without an address, keeping its text
        if url.startswith("tg://user?id="):
            entity = {**entity, "type": "text_mention"}
        else:
            entity["url"] = url
    elif kind == "blockquote" and "expandable" in open_tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "pre" and open_tag.attrs.get("language"):
        entity["language"] = open_tag.attrs["language"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = open_tag.attrs.get("emoji-id", "")
    return entity


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Plain text and entities of ``text`` in parse_mode HTML, or EntityParseError.

    Stricter than Telegram in one respect, on purpose: an '&' that does not start a known
    entity is an error (Telegram keeps it literally), because it always means a missing
    escape() in our code and the next character might make it a real entity.
    """
    out: list[str] = []
    out_len = 0  # UTF-16 units written so far
    stack: list[_Open] = []
    entities: list[dict] = []
    pos = 0
    n = len(text)
    while pos < n:
        char = text[pos]
        if char == "&":
            decoded = decode_entity(text, pos)
            if decoded is None:
                raise EntityParseError(
                    "Unsupported HTML entity or bare '&' at byte offset "
                    f"{_byte_offset(text, pos)} (write &amp;)"
                )
            out.append(decoded[0])
            out_len += utf16_len(decoded[0])
            pos = decoded[1]
            continue
        if char != "<":
            out.append(char)
            out_len += utf16_len(char)
            pos += 1
            continue
        begin = pos
        pos += 1
        if pos < n and text[pos] == "/":
            close = text.find(">", pos)
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            if close < 0:
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            name = text[pos + 1 : close].strip().lower()
            if name and name != stack[-1].tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, expected "
                    f'"</{stack[-1].tag}>", found "</{name}>"'
                )
            opened = stack.pop()
            language = opened.attrs.get("class", "")
            if opened.tag == "code" and stack and stack[-1].tag == "pre" and (
                language.startswith("language-")
            ):
                # <pre><code class="language-x"> is one pre entity with a language.
                stack[-1].attrs["language"] = language.removeprefix("language-")
                pos = close + 1
                continue
            entity = _entity(opened, out_len)
            if entity is not None and entity["length"] > 0:
                entities.append(entity)
            pos = close + 1
            continue
        name_end = pos
        while name_end < n and not text[name_end].isspace() and text[name_end] not in ">":
            name_end += 1
        if name_end >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[pos:name_end].lower()
        if tag not in TAG_ENTITIES:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, pos = _parse_attributes(text, name_end, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append(_Open(tag=tag, start=out_len, attrs=attrs))
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims leading and trailing whitespace from a message; entities follow."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    moved = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return result, moved
