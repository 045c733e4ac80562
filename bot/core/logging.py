"""Log hygiene: NIK and phone numbers are masked in every record before it is written, the
bot's secrets never are, and the libraries that log what the bot sends and receives are kept
above DEBUG (even at LOG_LEVEL=DEBUG, a log must not tie a chat to an anonymous ticket)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

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


REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    """Replaces the bot's secrets (its token, which Bot API URLs carry, the webhook secret, API
    tokens) in the record's message and exception text; never drops a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= 6:
                found.add(secret)
                # A bot token is "<bot id>:<key>": the key alone is the secret part.
                _bot_id, colon, key = secret.partition(":")
                if colon and len(key) >= 6:
                    found.add(key)
        self.secrets = sorted(found, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install_masking(logger: logging.Logger | None = None, secrets: Iterable[str] = ()) -> None:
    """Add the filters to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    secrets = list(secrets)
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
        if secrets:
            for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
                handler.removeFilter(old)
            handler.addFilter(SecretFilter(secrets))


# The lowest level each library logs at, whatever LOG_LEVEL says. At DEBUG python-telegram-bot
# logs every Bot API call with its parameters (chat ids beside message texts: a complainant's
# chat beside their anonymous ticket; the webhook's secret_token) and every update received;
# httpx logs each request's URL, which holds the bot token, even at INFO; httpcore and aiohttp
# log the raw requests. None of that helps an office's IT person.
QUIET_LOGGERS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiohttp": logging.INFO,
    "hpack": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
}


def configure_logging(level: str | int, *, secrets: Iterable[str] = ()) -> None:
    """The process's logging: ``level`` for the bot, the libraries of QUIET_LOGGERS kept at
    their floor, NIKs and phone numbers masked and ``secrets`` redacted in every record."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    install_masking(root, secrets)
