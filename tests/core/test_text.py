"""Splitting long messages keeps lines whole."""

from __future__ import annotations

from bot.core.text import split_message


def test_split_message_keeps_lines_whole():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(200))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith("\n") for p in parts[:-1])  # cut only at line breaks
    assert "".join(parts) == text
