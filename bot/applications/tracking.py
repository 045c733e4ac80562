"""Tracking numbers: short, typo-proof (a check character), and verification codes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

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
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.‐‑–—").translate(_LOOKALIKES)
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


# --- reading what a citizen typed ---------------------------------------------------------------

# Between the parts of what people type: spaces, punctuation around a number ("nomor: K7QM-3XPA,
# kode 123456"). Dashes, dots and underscores inside a number are dropped by normalising.
_TOKEN_SPLIT = re.compile(r"[\s,;:/|#()\[\]\"'?!]+")
_JOINERS = "-_.‐‑–—"  # ASCII and typographic dashes: a number copied from a PDF or a message
CODE_LENGTH = 6
MAX_TOKENS = 40  # a long message is read as a sentence; its first words are enough


@dataclass(frozen=True)
class Typed:
    """A tracking number and a verification code found in a message, as far as they were."""

    number: str | None = None  # canonical (K7QM3XPA), check character verified
    code: str | None = None  # six digits
    only: bool = False  # the message held nothing else
    digit_typed: bool = False  # the number's words, as typed, hold a digit (not a lookalike)

    @property
    def in_free_text(self) -> bool:
        """Sure enough to be read as a lookup outside the status prompt: a number written
        with a digit and a letter, or with its code, or alone. An ordinary eight-letter word
        passes the check character one time in 32, so it alone is not enough; nor are words
        whose I, L or O only read as digits ("pindah ke" is P1NDAHKE)."""
        if self.number is None:
            return False
        mixed = self.digit_typed and any(c.isalpha() for c in self.number)
        return mixed or self.code is not None or self.only


def _clean(token: str) -> str:
    return "".join(ch for ch in token.upper() if ch not in _JOINERS).translate(_LOOKALIKES)


def _is_code(text: str) -> bool:
    return len(text) == CODE_LENGTH and text.isascii() and text.isdigit()


def read_typed(text: str) -> Typed:
    """The tracking number and code in ``text`` however they were copied: any case, spaces,
    dots or dashes inside the number ("pfvy qg64", "PFVY.QG64"), I/L for 1 and O for 0, the
    code before or after, stuck to the number or split as "123 456"."""
    tokens = [t for t in _TOKEN_SPLIT.split(text.strip()) if t][:MAX_TOKENS]
    cleaned = [_clean(t) for t in tokens]
    number, code, used, number_words = None, None, set(), []
    for start in range(len(cleaned)):
        joined = ""
        for end in range(start, min(start + TRACKING_BODY + 1, len(cleaned))):
            joined += cleaned[end]
            if len(joined) == TRACKING_BODY + 1 + CODE_LENGTH and _is_code(joined[-CODE_LENGTH:]):
                # The code stuck to the number: K7QM3XPA123456.
                number = normalize_tracking_number(joined[: TRACKING_BODY + 1])
                code = joined[-CODE_LENGTH:] if number is not None else None
            elif len(joined) == TRACKING_BODY + 1:
                number = normalize_tracking_number(joined)
            if number is not None or len(joined) > TRACKING_BODY + 1:
                break
        if number is not None:
            used = set(range(start, end + 1))
            number_words = tokens[start:end + 1]
            break
    rest = [(i, t) for i, t in enumerate(tokens) if i not in used]
    if code is None:
        digits = [(i, t) for i, t in rest if t.isascii() and t.isdigit()]
        whole = [(i, t) for i, t in digits if _is_code(t)]
        if whole:
            code, used = whole[0][1], used | {whole[0][0]}
        else:
            for (i, first), (j, second) in zip(digits, digits[1:], strict=False):
                if j == i + 1 and _is_code(first + second):  # "123 456"
                    code, used = first + second, used | {i, j}
                    break
    return Typed(number=number, code=code, only=bool(tokens) and len(used) == len(tokens),
                 digit_typed=any(ch.isdigit() for ch in "".join(number_words)))
