"""Multi-step conversation state kept in the database, so any bot process can continue a flow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.core.models import ConversationState, utcnow

# A flow left alone this long is forgotten rather than resumed out of context.
STATE_TTL = timedelta(hours=24)
# In a state's data: the step's question came with a reply keyboard (share my location, share my
# phone number), which stays on the citizen's screen until a message removes it.
REPLY_KEYBOARD = "_reply_keyboard"


def get_state(session: Session, *, chat_id: int, user_id: int) -> ConversationState | None:
    state = session.get(ConversationState, (chat_id, user_id))
    if state is None:
        return None
    if utcnow() - state.updated_at > STATE_TTL:
        session.delete(state)
        return None
    return state


def set_state(
    session: Session,
    *,
    chat_id: int,
    user_id: int,
    flow: str,
    step: str,
    data: dict[str, Any] | None = None,
    reply_keyboard: bool = False,
) -> ConversationState:
    """Save the flow at ``step``; ``reply_keyboard``: the step's question shows a reply keyboard
    (so cancelling the flow removes it, handlers/common.py)."""
    state = session.get(ConversationState, (chat_id, user_id))
    if state is None:
        state = ConversationState(chat_id=chat_id, user_id=user_id, flow=flow, step=step)
    state.flow = flow
    state.step = step
    # A new dict, so SQLAlchemy sees the JSON column change.
    state.data = dict(data or {})
    state.data.pop(REPLY_KEYBOARD, None)
    if reply_keyboard:
        state.data[REPLY_KEYBOARD] = True
    state.updated_at = utcnow()
    session.add(state)
    return state


def clear_state(session: Session, *, chat_id: int, user_id: int) -> ConversationState | None:
    """End the flow; the state it was in, or None."""
    state = session.get(ConversationState, (chat_id, user_id))
    if state is not None:
        session.delete(state)
    return state


def reply_keyboard_shown(state: ConversationState | None) -> bool:
    """Whether the flow's last question left a reply keyboard on the citizen's screen."""
    return bool(state is not None and (state.data or {}).get(REPLY_KEYBOARD))
