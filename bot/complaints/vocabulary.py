"""The words of the complaint feature: statuses, labels, privacy choices, time limits and the
office's complaint categories."""

from __future__ import annotations

from dataclasses import dataclass
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
DESCRIPTION_MIN = 20
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


# --- categories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A kind of complaint with its priority and time limit. ``label`` is a msgid, or the
    knowledge base's own wording per locale."""

    key: str
    label: str | dict[str, str]
    priority: int = PRIORITY_NORMAL
    resolve_days: int | None = None  # None: COMPLAINT_RESOLVE_DAYS
    # With supervisory content (illegal levies): the long legal limit, and supervisors are told
    # the moment it is filed.
    supervisory: bool = False

    def title(self, tr: Translator) -> str:
        if isinstance(self.label, dict):
            return self.label.get(tr.locale) or self.label.get("id") or self.key
        return tr.gettext(self.label)


DEFAULT_CATEGORIES = (
    Category("slow_service", N_("Slow service")),
    Category("fee", N_("Fee not as published"), priority=PRIORITY_HIGH),
    Category("illegal_levy", N_("Illegal levy (pungli)"), PRIORITY_HIGHEST, supervisory=True),
    Category("behaviour", N_("Officer behaviour")),
    Category("facilities", N_("Facilities")),
    Category("information", N_("Unclear information")),
    Category("other", N_("Other")),
)


def categories(rt: Runtime) -> tuple[Category, ...]:
    """The office's categories: the knowledge base's ``office.complaint_categories`` when it
    has them, otherwise the defaults above. A knowledge-base category is supervisory (pungli:
    the long limit, supervisors told at once) when it says so or when its id is listed in
    COMPLAINT_LEVY_CATEGORIES."""
    office = getattr(rt.knowledge, "office", None)
    configured = getattr(office, "complaint_categories", None)
    if not configured:
        return DEFAULT_CATEGORIES
    levy = set(rt.settings.complaint_levy_categories)
    return tuple(_category_from_config(item, levy) for item in configured)


def _category_from_config(item: Any, levy: set[str]) -> Category:
    if isinstance(item, Category):
        return item

    def get(name: str) -> Any:
        return item.get(name) if isinstance(item, dict) else getattr(item, name, None)

    key = str(get("id") or get("key"))
    supervisory = bool(get("supervisory")) or key in levy
    priority = get("priority") or (PRIORITY_HIGHEST if supervisory else PRIORITY_NORMAL)
    return Category(
        key=key,
        label=_label_of(get("name") or get("label") or key),
        priority=int(priority),
        resolve_days=get("resolve_days"),
        supervisory=supervisory,
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


def time_limits(rt: Runtime, category: Category) -> TimeLimits:
    settings = rt.settings
    if category.resolve_days is not None:
        resolve = category.resolve_days
    elif category.supervisory:
        resolve = settings.complaint_levy_resolve_days
    else:
        resolve = settings.complaint_resolve_days
    return TimeLimits(
        settings.complaint_verify_days,
        settings.complaint_response_days,
        max(resolve, settings.complaint_response_days),
    )
