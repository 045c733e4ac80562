"""Callback data of inline buttons as one small value type: ``prefix:action[:id][:arg]``.

Built where a button is made (the 64-byte limit is checked then, not when Telegram refuses the
keyboard) and parsed where a press is routed. A button comes back from the user's device, so it
is untrusted input: parsing checks the shape and the range of the id, and anything else is
``None`` (the caller answers "unknown button"), never an exception or a query with an id the
database cannot hold.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.telegram_rules.limits import CALLBACK_DATA_LIMIT

SEPARATOR = ":"
# Row ids are BIGINT in the database: a larger number can only be forged.
MAX_ID = 2**63 - 1


class CallbackDataError(ValueError):
    """A button's data that Telegram would refuse, or that could not be parsed back."""


@dataclass(frozen=True)
class CallbackData:
    """One button's data: ``prefix`` routes it to a handler, ``action`` says what to do, ``id``
    is the row it is about (checked against the presser by the handler), ``arg`` is the rest
    (it may itself contain the separator; see ``arg_parts``)."""

    prefix: str
    action: str
    id: int | None = None
    arg: str | None = None

    def __post_init__(self) -> None:
        for name in ("prefix", "action"):
            value = getattr(self, name)
            if not value or SEPARATOR in value:
                raise CallbackDataError(f"{name} must be non-empty, without {SEPARATOR}: {value!r}")
        if self.id is not None and not 0 <= self.id <= MAX_ID:
            raise CallbackDataError(f"id out of range: {self.id}")
        size = len(self.pack().encode())
        if size > CALLBACK_DATA_LIMIT:
            raise CallbackDataError(f"{size} bytes of callback data, Telegram takes at most 64")

    def pack(self) -> str:
        parts = [self.prefix, self.action]
        if self.id is not None:
            parts.append(str(self.id))
        if self.arg is not None:
            parts.append(self.arg)
        return SEPARATOR.join(parts)

    @classmethod
    def fitting(
        cls, prefix: str, action: str, id: int | None = None, arg: str | None = None
    ) -> CallbackData | None:
        """The data, or None when it would not fit in a button (a caller that lists things
        whose names are long, such as services, leaves those out)."""
        try:
            return cls(prefix, action, id, arg)
        except CallbackDataError:
            return None

    @classmethod
    def parse(
        cls, data: str | None, prefix: str, *, with_id: Collection[str] = ()
    ) -> CallbackData | None:
        """The data of a press routed to ``prefix``, or None when it is malformed.

        For the actions in ``with_id`` the third field must be a row id (decimal digits within
        the database's range); for the others everything after the action is the ``arg``.
        """
        if not data or len(data.encode()) > CALLBACK_DATA_LIMIT:
            return None
        head, _, rest = data.partition(SEPARATOR)
        if head != prefix:
            return None
        action, has_rest, rest = rest.partition(SEPARATOR)
        if not action:
            return None
        if action not in with_id:
            return cls(prefix, action, None, rest if has_rest else None)
        id_text, has_arg, arg = rest.partition(SEPARATOR)
        if not (id_text.isascii() and id_text.isdigit()) or int(id_text) > MAX_ID:
            return None
        return cls(prefix, action, int(id_text), arg if has_arg else None)

    def arg_parts(self, count: int) -> tuple[str, ...] | None:
        """The ``arg`` as exactly ``count`` fields, or None when it has another shape."""
        if self.arg is None:
            return None
        parts = tuple(self.arg.split(SEPARATOR))
        return parts if len(parts) == count else None
