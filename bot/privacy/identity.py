"""Who is being erased, as the copies of their data show them: the names they gave, the NIKs and
phone numbers they wrote, and the markers (complaint tickets) that say a message is about them.

/hapusdata gathers these first (every kind adds what it knows, see bot/privacy/registry.py),
then every kind rewrites the texts it keeps about the person without them (``redact``), and
only then unlinks or deletes the rows. A message to the officers' group about a complaint
carries no Telegram id, only the ticket and the name: without this step the name would outlive
the erasure in the outbox's sent row and in the stored webhook answers.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from bot.core.logging import PHONE_RE
from bot.core.names import clean_name
from bot.core.text import escape
from bot.privacy.masking import MASKED_NIK_RE, MASKED_PHONE_RE, NIK_ANY_RE, numbers_in

# What a name, a NIK, a phone number and the Telegram id become in a copy that is kept.
NAME, NIK, PHONE, ID = "[name]", "[NIK]", "[phone]", "[id]"
# A word of a name shorter than this is not looked for on its own: it would eat common words.
MIN_NAME_WORD = 3


@dataclass
class Identity:
    """What identifies one person in the texts the bot keeps (see the module's docstring)."""

    telegram_id: int
    names: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)  # as written: "0812-3456-7890"
    markers: set[str] = field(default_factory=set)  # complaint tickets

    def add_name(self, name: str | None) -> None:
        """A name the person gave (Telegram profile, a complaint's name): whole, and each word
        of it long enough to be looked for alone."""
        cleaned = clean_name(name)
        if len(cleaned) < 2:
            return
        self.names.add(cleaned)
        self.names.update(word for word in cleaned.split() if len(word) >= MIN_NAME_WORD)

    def add_numbers_from(self, text: str | None) -> None:
        self.numbers.update(numbers_in(text))

    def add_marker(self, marker: str) -> None:
        self.markers.add(marker)

    def search_terms(self) -> list[str]:
        """Strings a stored copy about the person contains, as SQL LIKE looks for them: as
        written, HTML-escaped, and escaped as JSON stores non-ASCII text."""
        terms: set[str] = set(self.markers) | {str(self.telegram_id)}
        for value in self.names | self.numbers:
            terms.update({*_spellings(value), json.dumps(value)[1:-1]})
        return sorted(term for term in terms if term)

    def mentions(self, text: str | None) -> bool:
        return bool(text) and self.redact(text) != text

    def redact(self, text: str) -> str:
        """``text`` without the person: their names, every NIK and phone number (whole or as
        masked for staff) and their Telegram id replaced. Works on plain text and on HTML."""
        for name in sorted(self.names, key=len, reverse=True):
            for form in _spellings(name):
                text = re.sub(rf"(?i)(?<!\w){re.escape(form)}(?!\w)", NAME, text)
        text = NIK_ANY_RE.sub(NIK, text)
        text = MASKED_NIK_RE.sub(NIK, text)
        text = PHONE_RE.sub(PHONE, text)
        text = MASKED_PHONE_RE.sub(PHONE, text)
        for number in self.numbers:  # written some other way the patterns do not know
            text = text.replace(number, PHONE)
        return re.sub(rf"(?<!\d){self.telegram_id}(?!\d)", ID, text)


def _spellings(value: str) -> set[str]:
    """A value as written, and as HTML shows it (the bot's messages escape no quotes, pages
    do)."""
    return {value, escape(value), html.escape(value)}


def redact_json(identity: Identity, value: object) -> object:
    """Every string inside a JSON value (a message's payload, an audit detail) redacted."""
    if isinstance(value, str):
        return identity.redact(value)
    if isinstance(value, list):
        return [redact_json(identity, item) for item in value]
    if isinstance(value, dict):
        return {key: redact_json(identity, item) for key, item in value.items()}
    return value
