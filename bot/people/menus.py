"""Each staff member's own command menu ("/" in Telegram): set in their chat when a role is
given, removed when it is taken away, so that citizens keep the default menu.

Telegram shows a chat the commands of the narrowest scope set for it: a chat scope
(BotCommandScopeChat) for each officer, supervisor and admin, in the language they chose in the
bot, over the default scope that every citizen sees (set per language at start-up, bot/app.py).
The calls go through the durable outbox, in the transaction that changes the role: they are
calls the bot makes on its own initiative, paced like messages, and they must not be lost when
the process stops between the change and the call. The outbox's last menu row for a chat is
also the record of what the chat was given, so nothing is queued twice for the same menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, col, select

from bot.core.models import Staff, User
from bot.core.runtime import Runtime
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue
from bot.people.roles import role_of

SET, DELETE = "setMyCommands", "deleteMyCommands"
# (role, locale) -> [(command, description)]: the menus of the running Application, set on the
# runtime by the Telegram layer (handlers/menu.py).
MenuSource = Callable[[str, str], list[tuple[str, str]]]


def _scope(chat_id: int) -> dict[str, Any]:
    return {"type": "chat", "chat_id": chat_id}


def _last_menu(session: Session, chat_id: int) -> OutboxMessage | None:
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.chat_id == chat_id, col(OutboxMessage.method).in_((SET, DELETE)))
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    ).first()


def sync_menu(
    session: Session, rt: Runtime, telegram_id: int, *, role: str | None = None
) -> str | None:
    """Queue the menu this person's chat should show, if it is not what was queued last.

    Returns the method queued (setMyCommands or deleteMyCommands), or None when nothing had to
    change, when the person never wrote to the bot (Telegram knows no chat with them yet: the
    menu is set at their first /start or /help, or by the periodic sync), or when no
    Application runs in this process (the command line): the bot's sync catches up.
    """
    source: MenuSource | None = rt.command_menus
    if source is None:
        return None
    role = role or role_of(session, telegram_id, rt.settings.admin_ids)
    last = _last_menu(session, telegram_id)
    if role == "citizen":
        if last is None or last.method == DELETE:
            return None
        enqueue(session, chat_id=telegram_id, method=DELETE, scope=_scope(telegram_id))
        return DELETE
    user = session.get(User, telegram_id)
    if user is None:
        return None
    commands = [
        {"command": name, "description": description}
        for name, description in source(role, user.language)
    ]
    if last is not None and last.method == SET and last.payload.get("commands") == commands:
        return None
    enqueue(session, chat_id=telegram_id, method=SET, commands=commands,
            scope=_scope(telegram_id))
    return SET


def sync_menus(session: Session, rt: Runtime, extra: Iterable[int] = ()) -> int:
    """Every staff member's and admin's menu (after a release that changed the commands, a
    language change, an admin added to ADMIN_IDS); returns how many calls were queued."""
    people = set(session.exec(select(Staff.telegram_id)).all())
    people |= set(rt.settings.admin_ids) | set(extra)
    return sum(sync_menu(session, rt, telegram_id) is not None for telegram_id in sorted(people))
