"""The statuses of an application, the moves between them, and each service's own labels and
lead times (ServiceSteps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.i18n import N_, Translator

# --- statuses -----------------------------------------------------------------------------------

RECEIVED = "received"
IN_VERIFICATION = "in_verification"
NEEDS_CORRECTION = "needs_correction"
IN_PROCESS = "in_process"
READY_FOR_PICKUP = "ready_for_pickup"
COMPLETED = "completed"
REJECTED = "rejected"

STATUSES = (
    RECEIVED,
    IN_VERIFICATION,
    NEEDS_CORRECTION,
    IN_PROCESS,
    READY_FOR_PICKUP,
    COMPLETED,
    REJECTED,
)
FINAL_STATUSES = frozenset({COMPLETED, REJECTED})
# The normal road; any move further along it is allowed (steps may be skipped).
MAIN_ROAD = (RECEIVED, IN_VERIFICATION, IN_PROCESS, READY_FOR_PICKUP, COMPLETED)
# The documented corrections, on top of forward moves along the main road.
CORRECTIONS: dict[str, frozenset[str]] = {
    # Something is missing: asked of the applicant at any point before the result is ready.
    RECEIVED: frozenset({NEEDS_CORRECTION, REJECTED}),
    IN_VERIFICATION: frozenset({NEEDS_CORRECTION, REJECTED}),
    IN_PROCESS: frozenset({NEEDS_CORRECTION, REJECTED}),
    # The applicant brought what was missing: checked again (or processing resumes).
    NEEDS_CORRECTION: frozenset({IN_VERIFICATION, IN_PROCESS, REJECTED}),
    # Marked ready too early, or the result turned out faulty: back to processing.
    READY_FOR_PICKUP: frozenset({IN_PROCESS}),
}
NOTE_REQUIRED = frozenset({NEEDS_CORRECTION, REJECTED})
# Steps a service may not omit: every application is received and ends one way or the other.
FIXED_STEPS = frozenset({RECEIVED, COMPLETED, REJECTED})

STATUS_LABELS = {
    RECEIVED: N_("Received"),
    IN_VERIFICATION: N_("In verification"),
    NEEDS_CORRECTION: N_("Needs correction"),
    IN_PROCESS: N_("In process"),
    READY_FOR_PICKUP: N_("Ready for pickup"),
    COMPLETED: N_("Completed"),
    REJECTED: N_("Rejected"),
}


def allowed_next(current: str) -> list[str]:
    """Every status an application in ``current`` may move to, in the order of STATUSES."""
    targets: set[str] = set(CORRECTIONS.get(current, ()))
    if current in MAIN_ROAD:
        targets.update(MAIN_ROAD[MAIN_ROAD.index(current) + 1 :])
    return [s for s in STATUSES if s in targets]


@dataclass(frozen=True)
class ServiceSteps:
    """How one service names its steps: renamed ones, and the ones it does not use.

    From the knowledge base's optional ``statuses`` mapping, e.g.
    ``{in_verification: false, ready_for_pickup: {id: "Siap dikirim", en: "Ready to post"}}``:
    false (or "omit") leaves a step out, a text renames it.
    """

    names: dict[str, dict[str, str]] = field(default_factory=dict)
    omitted: frozenset[str] = frozenset()

    @classmethod
    def of(cls, service: Any) -> ServiceSteps:
        mapping = getattr(service, "statuses", None) or {}
        names: dict[str, dict[str, str]] = {}
        omitted: set[str] = set()
        for status, value in mapping.items():
            if status not in STATUSES:
                raise ValueError(
                    f"service {getattr(service, 'id', '?')}: unknown status {status!r} in "
                    f"statuses; use one of {', '.join(STATUSES)}"
                )
            if value is False or value is None or value == "omit":
                if status in FIXED_STEPS:
                    raise ValueError(
                        f"service {getattr(service, 'id', '?')}: the step {status!r} "
                        "cannot be omitted"
                    )
                omitted.add(status)
            elif isinstance(value, str):
                names[status] = {"id": value}
            elif isinstance(value, dict) and isinstance(value.get("id"), str):
                names[status] = {k: str(v) for k, v in value.items() if k in ("id", "en")}
            else:
                raise ValueError(
                    f"service {getattr(service, 'id', '?')}: statuses.{status} must be false, "
                    "a name, or {id: ..., en: ...}"
                )
        return cls(names=names, omitted=frozenset(omitted))

    def label(self, status: str, tr: Translator) -> str:
        own = self.names.get(status)
        if own:
            return own.get(tr.locale) or own["id"]
        return tr.gettext(STATUS_LABELS[status])

    def next_steps(self, current: str) -> list[str]:
        return [s for s in allowed_next(current) if s not in self.omitted]


def status_mapping_problems(kb: Any) -> list[Any]:
    """Every service whose ``statuses`` mapping is wrong, as knowledge-base problems, so the bot
    refuses to start with a clear line instead of failing at the first status change."""
    from bot.qa.knowledge import Problem

    problems = []
    for service in kb.services.values():
        try:
            ServiceSteps.of(service)
        except ValueError as err:
            problems.append(Problem(str(kb.directory), 1, f"{service.id}.statuses", str(err)))
    return problems
