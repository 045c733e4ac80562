"""Staff as their colleagues see them on tickets, lists and confirmations: by their Telegram
name, with the id added only where two of them go by the same name.

The name is the one Telegram gives with each update, remembered whenever a staff member acts
(handlers call ``remember_staff_name``); someone who never acted yet is shown by id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from bot.core.models import Staff
from bot.core.names import clean_name

NAME_MAX = 120


def remember_staff_name(session: Session, telegram_id: int, name: str | None) -> None:
    """Keep a staff member's current Telegram name (cleaned); nothing for anyone else."""
    cleaned = clean_name(name)[:NAME_MAX]
    if not cleaned:
        return
    staff = session.get(Staff, telegram_id)
    if staff is None or staff.name == cleaned:
        return
    staff.name = cleaned
    session.add(staff)


def staff_labels(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The label of each of ``ids`` whose name is known: the name, or "name (id)" when another
    staff member has the same name (letter case aside). Unknown ids are left out."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    named = session.exec(
        select(Staff.telegram_id, Staff.name).where(col(Staff.name).is_not(None))
    ).all()
    # The staff table is a few dozen rows: every name is read to see which ones collide.
    counts = Counter(name.casefold() for _id, name in named if name)
    labels = {}
    for telegram_id, name in named:
        if telegram_id in wanted and name:
            labels[telegram_id] = (
                f"{name} ({telegram_id})" if counts[name.casefold()] > 1 else name
            )
    return labels


def staff_label(
    labels: dict[int, str], telegram_id: int, tr: Translator
) -> str:
    """One staff member from ``staff_labels``, or "officer <id>" when the name is unknown.
    Plain text: escape it for HTML."""
    return labels.get(telegram_id) or tr.gettext("officer {id}").format(id=telegram_id)
