"""Tracking numbers: short, typo-proof (a check character), and verification codes."""

from __future__ import annotations

import secrets

# --- tracking numbers ---------------------------------------------------------------------------

# Crockford's base32: no I, L, O or U, so nothing on a printed receipt reads two ways.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# What people type for the letters that are not in the alphabet.
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
TRACKING_BODY = 7  # 32**7, about 34 billion numbers, then one check character


def _check_char(body: str) -> str:
    """Luhn mod 32: catches every single wrong character and most swapped neighbours."""
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_tracking_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(TRACKING_BODY))
    return body + _check_char(body)


def normalize_tracking_number(text: str) -> str | None:
    """The canonical form of what someone typed (any case, spaces, dashes, O for 0), or None
    when it cannot be a tracking number (wrong length, bad character, check fails)."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.").translate(_LOOKALIKES)
    if len(cleaned) != TRACKING_BODY + 1 or any(ch not in _VALUE for ch in cleaned):
        return None
    if _check_char(cleaned[:-1]) != cleaned[-1]:
        return None
    return cleaned


def format_tracking_number(tracking_number: str) -> str:
    """As printed and shown: two groups of four, K7QM-3XPA."""
    return f"{tracking_number[:4]}-{tracking_number[4:]}"


def new_verification_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"
