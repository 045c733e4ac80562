"""NIKs and phone numbers in a citizen's free text as staff read it: masked wherever the text is
shown or exported (the group post, the officer's view, the console, spreadsheets); the full text
only on an explicit, audited request by the officer handling it (bot/complaints/masking.py)."""

from __future__ import annotations

import re

from bot.core.logging import PHONE_RE

# A NIK (or a KK number, the same shape) is 16 digits, often written in groups of four or
# with dots: "3171 0123 4567 8901". Never inside a longer run of digits.
NIK_ANY_RE = re.compile(r"(?<![\d*])\d(?:[ .-]?\d){15}(?![\d*])")
# What mask_nik and mask_phone leave: recognised again when a copy is erased.
MASKED_NIK_RE = re.compile(r"(?<!\d)\d{4}\*{8}\d{4}(?!\d)")
MASKED_PHONE_RE = re.compile(r"(?<![\d+])\+?\d{3,4}\*{2,}\d{3}(?!\d)")


def mask_nik(nik: str) -> str:
    """A NIK as shown to officers who do not need it whole: region code and last four digits."""
    digits = "".join(ch for ch in nik if ch.isdigit())
    if len(digits) != 16:
        return "*" * len(digits)
    return digits[:4] + "*" * 8 + digits[-4:]


def mask_phone(phone: str) -> str:
    """A phone number with all but its first four and last three digits hidden."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 7) + digits[-3:]


def mask_numbers(text: str) -> str:
    """``text`` with every NIK and phone number masked (mask_nik, mask_phone); the rest as
    written. Safe before and after HTML escaping (digits, spaces, dots, dashes, '+' only)."""
    masked = NIK_ANY_RE.sub(lambda m: mask_nik(m.group()), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group()), masked)


def has_numbers(text: str | None) -> bool:
    """Whether mask_numbers would hide something in ``text``."""
    return bool(text) and mask_numbers(text) != text


def numbers_in(text: str | None) -> list[str]:
    """The NIKs and phone numbers in ``text``, as written."""
    if not text:
        return []
    found = [m.group() for m in NIK_ANY_RE.finditer(text)]
    rest = NIK_ANY_RE.sub(" ", text)
    return found + [m.group() for m in PHONE_RE.finditer(rest)]
