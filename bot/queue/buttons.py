"""The queue's button prefixes, shared by the messages bot/queue sends through the outbox and
the handlers that route the presses (handlers/queue)."""

from __future__ import annotations

from bot.telegram_rules.callback import CallbackData

CITIZEN = "q"  # booking steps and a citizen's own bookings (handlers/queue/citizen.py)
COUNTER = "qc"  # an officer's arrived/skip/done on a called visit
REGISTER = "qr"  # an officer registers the application of a finished visit
WALK_IN = "qw"  # an officer gives a walk-in a number
STATS = "qs"  # a supervisor's figures as a chart, CSV or XLSX


def booking_data(action: str, booking_id: int, *fields: str) -> str:
    """A citizen's button about one of their bookings (the id is checked against the presser)."""
    return CallbackData(CITIZEN, action, booking_id, ":".join(fields) if fields else None).pack()


def step_data(action: str, *fields: str) -> str:
    """A citizen's button that needs no booking id (a booking step, their list of bookings)."""
    return CallbackData(CITIZEN, action, arg=":".join(fields) if fields else None).pack()
