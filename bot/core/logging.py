"""Log hygiene: NIK and phone numbers are masked in every record before it is written."""

from __future__ import annotations

import logging
import re

# A NIK is 16 digits (UU 24/2013); never inside a longer run of digits.
NIK_RE = re.compile(r"(?<!\d)\d{16}(?!\d)")
# Indonesian phone numbers: 08..., 628..., +62 8..., with optional spaces, dots or dashes.
# Mobile numbers have 8 to 11 digits after the 8; requiring 8 keeps Telegram ids (at most 10
# digits, never starting with 0, so at most 7 after "628") and update ids readable.
PHONE_RE = re.compile(r"(?<![\d+])(?:\+62|62|0)[ .-]?8(?:[ .-]?\d){8,11}(?!\d)")


def mask_personal(text: str) -> str:
    """Replace NIKs and phone numbers, keeping only their last two digits for correlation."""
    text = NIK_RE.sub(lambda m: "[NIK **" + m.group()[-2:] + "]", text)
    return PHONE_RE.sub(lambda m: "[phone **" + re.sub(r"\D", "", m.group())[-2:] + "]", text)


class PersonalDataFilter(logging.Filter):
    """Rewrites the record's message, exception text and stack in place; never drops a record.

    Installed on the handlers (not on loggers), so records of every library logger pass it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal(record.stack_info)
        return True


def install_masking(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
