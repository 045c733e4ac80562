"""The words of the complaint feature: statuses, labels, privacy choices, the time-limit tiers
and the office's complaint categories (which tier and which questions each one has)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.i18n import N_, Translator
from bot.core.runtime import Runtime

# --- vocabulary -------------------------------------------------------------------------------

RECEIVED = "received"
VERIFIED = "verified"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REJECTED = "rejected"
DUPLICATE = "duplicate"
STATUSES = (RECEIVED, VERIFIED, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, DUPLICATE)
OPEN_STATUSES = (RECEIVED, VERIFIED, ASSIGNED, IN_PROGRESS)
TERMINAL_STATUSES = (CLOSED, REJECTED, DUPLICATE)

# The lifecycle: every status change follows one of these edges. An action that needs several
# steps (an officer resolving a ticket nobody verified yet) walks them one by one.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({VERIFIED, REJECTED, DUPLICATE}),
    VERIFIED: frozenset({ASSIGNED, REJECTED, DUPLICATE}),
    ASSIGNED: frozenset({ASSIGNED, IN_PROGRESS, REJECTED, DUPLICATE}),
    IN_PROGRESS: frozenset({ASSIGNED, RESOLVED}),
    RESOLVED: frozenset({CLOSED, IN_PROGRESS}),
    CLOSED: frozenset(),
    REJECTED: frozenset(),
    DUPLICATE: frozenset(),
}

STATUS_LABELS = {
    RECEIVED: N_("Received"),
    VERIFIED: N_("Verified"),
    ASSIGNED: N_("Assigned"),
    IN_PROGRESS: N_("In progress"),
    RESOLVED: N_("Resolved"),
    CLOSED: N_("Closed"),
    REJECTED: N_("Rejected"),
    DUPLICATE: N_("Duplicate"),
}

NAMED = "named"
ANONYMOUS = "anonymous"
CONFIDENTIAL = "confidential"
PRIVACY_CHOICES = (NAMED, ANONYMOUS, CONFIDENTIAL)
PRIVACY_LABELS = {
    NAMED: N_("Named"),
    ANONYMOUS: N_("Anonymous"),
    CONFIDENTIAL: N_("Confidential"),
}
# Who still sees the name: shown to the citizen before they choose.
PRIVACY_NOTES = {
    NAMED: N_("The officers handling your complaint see your name."),
    ANONYMOUS: N_(
        "No officer sees your name or your Telegram account. Only the bot keeps your account, "
        "to send you the answer."
    ),
    CONFIDENTIAL: N_(
        "The officers handling your complaint see your name, but the complaint is left out "
        "of public figures."
    ),
}

PRIORITY_HIGHEST = 1
PRIORITY_HIGH = 2
PRIORITY_NORMAL = 3
PRIORITY_LABELS = {
    PRIORITY_HIGHEST: N_("highest"),
    PRIORITY_HIGH: N_("high"),
    PRIORITY_NORMAL: N_("normal"),
}

EVIDENCE_KINDS = ("photo", "document")
MAX_EVIDENCE = 10
# "dimintai uang" is a complaint: two words and ten characters say what happened.
DESCRIPTION_MIN = 10
DESCRIPTION_MIN_WORDS = 2
PLACE_MAX = 200
DESCRIPTION_MAX = 3000
MESSAGE_MAX = 3000

STAGE_VERIFY = "verify"
STAGE_RESPONSE = "response"
STAGE_RESOLVE = "resolve"
STAGE_LABELS = {
    STAGE_VERIFY: N_("verification"),
    STAGE_RESPONSE: N_("first response"),
    STAGE_RESOLVE: N_("resolution"),
}

TICKET_PREFIX = "ADU-"
# No 0/O, 1/I/L: a ticket read aloud at the counter or copied from a photo stays unambiguous.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 6


# --- time limits ------------------------------------------------------------------------------

STANDARD = "standard"
URGENT = "urgent"


@dataclass(frozen=True)
class Tier:
    """How fast a kind of complaint is handled, in working days; None takes the office's
    setting (COMPLAINT_VERIFY_DAYS, COMPLAINT_RESPONSE_DAYS, COMPLAINT_RESOLVE_DAYS)."""

    key: str
    verify_days: int | None = None
    response_days: int | None = None
    resolve_days: int | None = None
    # Counted from the moment it is filed (the same hour N working days later), not to the
    # end of the office day: someone asked for money at the counter hears the same day.
    from_the_hour: bool = False
    # Supervisors are told the moment it is filed, and the citizen is told they were.
    alerts_supervisors: bool = False


# The tiers printed in service standards (docs/complaints.md): illegal fees (pungli) and
# safety get the shortest, a supervisor's call within one working day and a resolution within
# two (the "light" tier); the rest the office's settings (14 working days by default).
TIERS = {
    URGENT: Tier(URGENT, 1, 1, 2, from_the_hour=True, alerts_supervisors=True),
    STANDARD: Tier(STANDARD),
}
# Which categories are urgent, by id: the defaults' and the usual knowledge-base ids (plus the
# ids in COMPLAINT_LEVY_CATEGORIES).
URGENT_CATEGORIES = frozenset(
    {"illegal_levy", "pungli", "safety", "keamanan", "keselamatan", "keamanan_keselamatan"}
)
# Categories about no place (information given wrongly, a website): the place is not asked.
PLACELESS_CATEGORIES = frozenset({"information", "informasi"})


# --- categories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A kind of complaint with its priority and time-limit tier. ``label`` is a msgid, or
    the knowledge base's own wording per locale."""

    key: str
    label: str | dict[str, str]
    priority: int = PRIORITY_NORMAL
    tier: str = STANDARD
    has_place: bool = True  # False: the filing does not ask where it happened

    @property
    def urgent(self) -> bool:
        return TIERS[self.tier].alerts_supervisors

    def title(self, tr: Translator) -> str:
        if isinstance(self.label, dict):
            return self.label.get(tr.locale) or self.label.get("id") or self.key
        return tr.gettext(self.label)


DEFAULT_CATEGORIES = (
    Category("slow_service", N_("Slow service")),
    Category("fee", N_("Fee not as published"), priority=PRIORITY_HIGH),
    Category("illegal_levy", N_("Illegal levy (pungli)"), PRIORITY_HIGHEST, URGENT),
    Category("safety", N_("Safety or security"), PRIORITY_HIGHEST, URGENT),
    Category("behaviour", N_("Officer behaviour")),
    Category("facilities", N_("Facilities")),
    Category("information", N_("Unclear information"), has_place=False),
    Category("other", N_("Other")),
)


def categories(rt: Runtime) -> tuple[Category, ...]:
    """The office's categories: the knowledge base's ``office.complaint_categories`` when it
    has them, otherwise the defaults above. A knowledge-base category is urgent (pungli,
    safety: the shortest limit, supervisors told at once) when its id is one of
    URGENT_CATEGORIES or of COMPLAINT_LEVY_CATEGORIES."""
    office = getattr(rt.knowledge, "office", None)
    configured = getattr(office, "complaint_categories", None)
    if not configured:
        return DEFAULT_CATEGORIES
    urgent = URGENT_CATEGORIES | set(rt.settings.complaint_levy_categories)
    return tuple(_category_from_config(item, urgent) for item in configured)


def _category_from_config(item: Any, urgent: frozenset[str] | set[str]) -> Category:
    if isinstance(item, Category):
        return item

    def get(name: str) -> Any:
        return item.get(name) if isinstance(item, dict) else getattr(item, name, None)

    key = str(get("id") or get("key"))
    tier = get("tier") or (URGENT if key in urgent else STANDARD)
    if tier not in TIERS:
        tier = STANDARD
    priority = get("priority") or (PRIORITY_HIGHEST if tier == URGENT else PRIORITY_NORMAL)
    return Category(
        key=key,
        label=_label_of(get("name") or get("label") or key),
        priority=int(priority),
        tier=tier,
        has_place=key not in PLACELESS_CATEGORIES,
    )


def _label_of(value: Any) -> dict[str, str]:
    """A knowledge-base text (a string, {id, en}, or its Text model) as text per locale."""
    if isinstance(value, str):
        return {"id": value}
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if v}
    return {"id": value.id, **({"en": value.en} if getattr(value, "en", None) else {})}


def category_of(rt: Runtime, key: str) -> Category:
    """The category by key; one no longer configured still shows (as its key, normal)."""
    for category in categories(rt):
        if category.key == key:
            return category
    return Category(key, {"id": key, "en": key})


@dataclass(frozen=True)
class TimeLimits:
    verify_days: int
    response_days: int
    resolve_days: int
    from_the_hour: bool = False


def time_limits(rt: Runtime, category: Category) -> TimeLimits:
    """The category's tier, with the office's settings where the tier leaves them open; never a
    resolution due before the first response."""
    settings = rt.settings
    tier = TIERS[category.tier]
    verify = tier.verify_days or settings.complaint_verify_days
    response = max(tier.response_days or settings.complaint_response_days, verify)
    resolve = max(tier.resolve_days or settings.complaint_resolve_days, response)
    return TimeLimits(verify, response, resolve, tier.from_the_hour)


def deadlines(
    rt: Runtime, category: Category, now: datetime
) -> tuple[datetime, datetime, datetime]:
    """When a complaint of ``category`` filed at ``now`` must be verified, first answered and
    resolved (UTC)."""
    limits = time_limits(rt, category)
    calendar = rt.calendar

    def due(days: int) -> datetime:
        if limits.from_the_hour:
            return calendar.add_working_days_at(now, days)
        return calendar.due_at(now, days, "working_days")

    return due(limits.verify_days), due(limits.response_days), due(limits.resolve_days)
