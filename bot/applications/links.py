"""The receipt's deep link (t.me/<bot>?start=...) and its QR code: one press opens the status
and follows the application.

The payload is the tracking number and the verification code, nothing more: whoever holds the
link holds the receipt, as before. It goes through the same lookup (and lockout) as both typed.
Telegram takes start payloads of at most 64 characters of A-Z, a-z, 0-9, _ and -.
"""

from __future__ import annotations

import io
import re

import segno

from bot.applications.models import Application
from bot.applications.tracking import CODE_LENGTH, normalize_tracking_number

PAYLOAD_PREFIX = "st_"
# st_<8 characters of the number>_<6 digits>: 18 characters.
_PAYLOAD = re.compile(rf"^{PAYLOAD_PREFIX}([0-9A-Za-z]{{8}})_(\d{{{CODE_LENGTH}}})$")


def status_payload(application: Application) -> str:
    return f"{PAYLOAD_PREFIX}{application.tracking_number}_{application.verification_code}"


def parse_status_payload(payload: str) -> tuple[str, str] | None:
    """(tracking number, code) from a start payload, or None when it is not one of ours or
    its number fails the check character."""
    found = _PAYLOAD.match(payload.strip())
    if found is None:
        return None
    number = normalize_tracking_number(found.group(1))
    return (number, found.group(2)) if number is not None else None


def status_link(bot_username: str, application: Application) -> str:
    return f"https://t.me/{bot_username}?start={status_payload(application)}"


def qr_png(link: str) -> bytes:
    """The link as a QR image (PNG), for the receipt: printed, or scanned from the screen."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
