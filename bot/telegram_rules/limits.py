"""Telegram's size limits, defined once (the emulator enforces them, production stays within)."""

from __future__ import annotations

TEXT_LIMIT = 4096  # UTF-16 code units of a message's text after the HTML is parsed
CAPTION_LIMIT = 1024  # UTF-16 code units of a media caption
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data
