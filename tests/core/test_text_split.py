"""Splitting long HTML messages as Telegram counts them (bot/core/text.py), checked against the
model of Telegram's HTML parser the emulator uses (bot/telegram_rules/html.py)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.text import escape, split_message
from bot.telegram_rules.html import parse_html, strip_text, utf16_len
from bot.telegram_rules.limits import CAPTION_LIMIT, TEXT_LIMIT


def _length(part: str) -> int:
    plain, entities = parse_html(part)  # raises if Telegram would refuse the HTML
    return utf16_len(strip_text(plain, entities)[0])


def _plain(part: str) -> str:
    return parse_html(part)[0]


def _check(text: str, limit: int) -> list[str]:
    parts = split_message(text, limit)
    for part in parts:
        assert 0 < _length(part) <= limit, part
    assert "".join(_plain(p) for p in parts) == _plain(text)
    return parts


def test_emoji_count_two_units_each():
    text = "😀" * 3000  # 6,000 units, 3,000 code points
    parts = _check(text, TEXT_LIMIT)
    assert len(parts) == 2
    assert utf16_len(parts[0]) == TEXT_LIMIT


def test_entities_count_once_and_are_never_cut():
    text = escape("&" * 2980)  # 14,900 characters of HTML, 2,980 of text: one message
    assert split_message(text) == [text]
    text = escape("&<>" * 2000)
    parts = _check(text, TEXT_LIMIT)
    assert len(parts) == 2


def test_tags_are_closed_and_opened_again_across_parts():
    text = '<b>bold <a href="https://x.test/?a=1&amp;b=2">' + "word " * 30 + "</a> end</b> after"
    parts = _check(text, 40)
    assert len(parts) > 2
    assert all(p.startswith('<b><a href="https://x.test/?a=1&amp;b=2">') for p in parts[1:-1])
    for part in parts[:-1]:
        assert part.endswith(("</a></b>", "</b>", " "))
    # Every part keeps the bold: the entity covers the text in each.
    for part in parts[:-1]:
        kinds = {e["type"] for e in parse_html(part)[1]}
        assert "bold" in kinds and (part is parts[-2] or "text_link" in kinds)


def test_prefers_line_breaks_then_spaces():
    text = "first line\nsecond line is longer than the rest"
    assert split_message(text, 20) == ["first line\n", "second line is ", "longer than the rest"]


def test_blank_stretches_are_left_out():
    text = "a" + " " * 50 + "b"
    parts = split_message(text, 10)
    assert all(p.strip() for p in parts)
    assert "".join(parts).replace(" ", "") == "ab"


def test_caption_limit():
    text = "x " * 1500  # 3,000 units
    parts = _check(text, CAPTION_LIMIT)
    assert len(parts) == 3 and all(_length(p) <= CAPTION_LIMIT for p in parts)


# --- property: random HTML of our kind (escaped text, emoji, nested tags) ------------------

_WORDS = st.one_of(
    st.lists(
        st.sampled_from(list("abc xyz\n&<>\"'") + ["😀", "👍🏽", "é", "\u200b", "🇮🇩"]),
        min_size=1,
        max_size=12,
    ).map(lambda chars: escape("".join(chars))),
    st.sampled_from(["&amp;", "&lt;", "&#128512;", "&#x1F44D;", "&quot;"]),
)
_TAGS = ["b", "i", "u", "s", "code", "blockquote", 'a href="https://e.test/?q=1&amp;r=2"',
         'span class="tg-spoiler"']


@st.composite
def _html(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            name = tag.split(" ", 1)[0]
            if name in ("code", "a") and depth > 0:
                tag, name = "i", "i"  # Telegram refuses links and code inside code
            pieces.append(f"<{tag}>{draw(_html(depth + 1))}</{name}>")
        else:
            pieces.append(draw(_WORDS))
    return "".join(pieces)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=_html(), limit=st.integers(min_value=2, max_value=60))
def test_every_part_parses_fits_and_the_parts_give_back_the_text(text: str, limit: int):
    if not _plain(text).strip():
        return
    parts = split_message(text, limit)
    for part in parts:
        assert 0 < _length(part) <= limit, (part, limit)
    # The parts are the text in order; only blank stretches between them (a part of nothing
    # but white space, which Telegram refuses) may be left out.
    original, pos = _plain(text), 0
    for part in parts:
        found = original.find(_plain(part), pos)
        assert found >= 0 and not original[pos:found].strip(), (part, original[pos:])
        pos = found + len(_plain(part))
    assert not original[pos:].strip()
