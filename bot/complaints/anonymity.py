"""An anonymous complaint leaves no record staff can read that ties its ticket to the person.

The complainant's Telegram id stays on the ticket (the answer must reach them) but is never
shown; the audit trail, which admins export (/audit), records the complainant's own steps on an
anonymous ticket (filing, closing, reopening, rating) without them.
"""

from __future__ import annotations

from typing import Any

from bot.complaints.models import Complaint
from bot.complaints.vocabulary import ANONYMOUS

# The audit line's detail in place of the actor's id.
ANONYMOUS_ACTOR = "anonymous"


def audit_actor(complaint: Complaint, actor_id: int | None) -> dict[str, Any]:
    """The ``audit`` keywords naming who acted on ``complaint``: the actor's id, unless they
    are the complainant of an anonymous ticket."""
    if complaint.privacy == ANONYMOUS and actor_id == complaint.complainant_id:
        return {"actor_id": None, "actor": ANONYMOUS_ACTOR}
    return {"actor_id": actor_id}
