"""Applicants' phone numbers in one form (+62...), so the number an officer typed at the counter
meets the one a citizen shares from Telegram; and the applications registered with it."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.applications.models import Application, ApplicationFollower
from bot.applications.statuses import FINAL_STATUSES

COUNTRY = "62"  # Indonesia: a number written from 0 is a national one
MIN_DIGITS, MAX_DIGITS = 6, 15  # E.164 allows at most 15 digits
MAX_OFFERED = 10  # applications offered at once to someone who shared their number
_SEPARATORS = " -().\u00a0"


def normalize_phone(text: str | None) -> str | None:
    """``+6281234567890`` for 081234567890, 6281234567890, +62 812-3456-7890 or
    0062 812 3456 7890; another country's number keeps its code (+44...). None when it is not
    a phone number (letters, too short or too long)."""
    if text is None:
        return None
    compact = "".join(ch for ch in text.strip() if ch not in _SEPARATORS)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    elif compact.startswith("0"):
        digits = COUNTRY + compact[1:]
    else:
        # Telegram shares numbers with their country code and without the plus (628...).
        digits = compact
    if not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):
        return None
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return None
    return "+" + digits


def registered_with_phone(
    session: Session, phone: str, *, user_id: int, limit: int = MAX_OFFERED
) -> list[Application]:
    """The unfinished applications registered with ``phone`` (normalised) that ``user_id``
    does not follow yet, newest first: what a citizen who proved the number is offered."""
    followed = select(ApplicationFollower.application_id).where(
        ApplicationFollower.user_id == user_id
    )
    return list(
        session.exec(
            select(Application)
            .where(
                Application.phone == phone,
                Application.status.not_in(FINAL_STATUSES),
                Application.id.not_in(followed),
            )
            .order_by(Application.received_at.desc(), Application.id.desc())
            .limit(limit)
        ).all()
    )
