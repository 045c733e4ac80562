"""What the complaint handlers share: their flows' names, keyboards, and the words for a refused
action."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User

from bot.complaints.access import (
    ComplaintError,
    Viewer,
    viewer_for,
)
from bot.complaints.vocabulary import (
    STATUS_LABELS,
)
from bot.core.i18n import N_, Translator
from bot.core.runtime import Runtime
from bot.people.staff_names import remember_staff_name

FLOW = "complaint"  # the citizen's filing
ADD_FLOW = "complaint_add"  # the citizen adds to a ticket
OFFICER_FLOW = "complaint_officer"  # an officer's reply / answer / reason, typed next
REOPEN_FLOW = "complaint_reopen"  # after "not solved": what is still wrong
# In this order; those whose answer is known or that do not apply are skipped (steps.py).
STEPS = ("category", "description", "service", "when", "location", "evidence", "privacy", "confirm")
ESCALATION_INTERVAL = 15 * 60  # seconds; the jobs only queue messages, the sender sends them
SILENT_CLOSE_INTERVAL = 60 * 60
# Buttons about one ticket (cc: the complainant's, cx: the officers'): the id follows the action.
TICKET_ACTIONS = frozenset(
    {"view", "add", "fb", "rate", "take", "asg", "unit", "off", "rep", "res", "rej"}
)

MENU_COMMANDS = (
    ("pengaduan", "complaint", N_("File a complaint")),
    ("tiket", "ticket", N_("Your complaint tickets")),
)
# (lowest role, Indonesian name, English name, description) for the staff's menus.
STAFF_COMMANDS = (
    ("officer", "complaints", "complaints", N_("Complaints to handle")),
    ("officer", "balas", "reply", N_("Answer a complainant")),
    ("officer", "duplikat", "duplicate", N_("Close a complaint as a duplicate")),
    ("supervisor", "laporan", "report", N_("Complaint figures for a period")),
    ("admin", "unit", "unit", N_("Set the unit an officer handles")),
)


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def json_markup(markup: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """The domain's Bot API JSON keyboard as python-telegram-bot's object."""
    if not markup:
        return None
    return inline_keyboard(
        [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]
    )


def error_text(exc: ComplaintError, tr: Translator) -> str:
    """What a refused action means, in words the person can act on."""
    _ = tr.gettext
    d = exc.detail
    messages = {
        "too_short": _(
            "Please tell a little more, in at least {words} words: what happened? For example: "
            "<i>dimintai uang di loket 3</i>."
        ),
        "too_long": _("That is {length} characters; the limit is {maximum}. Please shorten it."),
        "empty": _("Please write some text."),
        "bad_date": _(
            "I could not read that date. Press a day, or write it like 17/08/2026, 12 Nov or "
            "kemarin."
        ),
        "future_date": _("That date is in the future. Write the day it happened, or press Skip."),
        "bad_location": _("That location is not valid. Send it again, or press Skip."),
        "daily_limit": _(
            "You have already filed {limit} complaints today, the daily limit. Please continue "
            "tomorrow, or add information to an open ticket with /tiket."
        ),
        "already_yours": _("You already handle this ticket."),
        "taken_by_other": _(
            "Another officer already handles this ticket; a supervisor can reassign it."
        ),
        "not_your_ticket": _("You cannot handle this ticket: it belongs to another unit."),
        "unknown_ticket": _("No such ticket."),
        "unknown_officer": _("That person has no staff role; add them with /officer add first."),
        "illegal_move": _("This cannot be done now: the ticket is {status}."),
    }
    text = messages.get(exc.code, _("That choice is no longer valid. Please start again."))
    status = d.get("status")
    return text.format(
        **{**d, "status": _(STATUS_LABELS[status]) if status in STATUS_LABELS else ""}
    )


def user_name(update: Update) -> str | None:
    user = update.effective_user
    return user.full_name if user is not None else None


def acting_viewer(session: Session, rt: Runtime, user: User) -> Viewer:
    """The person behind an update as a Viewer (role and unit from the database); a staff
    member's Telegram name is remembered on the way, so colleagues see them by name."""
    viewer = viewer_for(session, user.id, rt.settings.admin_ids)
    if viewer.is_staff:
        remember_staff_name(session, user.id, user.full_name)
    return viewer
