"""Errors of the application feature, each with a reason the handlers can translate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.applications.statuses import STATUS_LABELS
from bot.core.i18n import N_, Translator
from bot.core.models import utcnow
from bot.core.text import escape

# --- errors with a translatable reason -------------------------------------------------------


class ApplicationError(Exception):
    """A refused request; ``msgid`` is English and translated where it is shown."""

    code = "refused"

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**{k: _plain(v) for k, v in params.items()}))

    def message(self, tr: Translator) -> str:
        """The reason in the reader's language, HTML-escaped; status ids become their labels."""
        return tr.gettext(self.msgid).format(
            **{k: escape(_shown(v, tr)) for k, v in self.params.items()}
        )


def _plain(value: Any) -> str:
    """A parameter for machine readers (the HTTP API): status ids stay ids."""
    return ", ".join(value) if isinstance(value, list | tuple) else str(value)


def _shown(value: Any, tr: Translator) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v, tr) for v in value) or "-"
    if isinstance(value, str) and value in STATUS_LABELS:
        return tr.gettext(STATUS_LABELS[value]).lower()
    return str(value)


class IllegalMove(ApplicationError):
    code = "illegal_move"


class NotFound(ApplicationError):
    code = "not_found"


class InvalidInput(ApplicationError):
    code = "invalid"


class LookupRefused(ApplicationError):
    """Wrong tracking number or code: deliberately the same answer for both."""

    code = "lookup_refused"


class LookupLocked(ApplicationError):
    code = "locked"

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            N_("Too many wrong attempts. Please try again after {minutes} minutes."),
            minutes=max(1, int((until - utcnow()).total_seconds() // 60) + 1),
        )
