"""Citizens, officers and admins as the bot knows them: one row per Telegram user."""

from __future__ import annotations

from sqlmodel import Session

from bot.i18n import normalize_locale
from bot.models import User


def ensure_user(
    session: Session, *, telegram_id: int, language_code: str | None, default_locale: str = "id"
) -> User:
    """The user's row, created at first contact with a language from Telegram's language_code."""
    user = session.get(User, telegram_id)
    if user is None:
        user = User(
            telegram_id=telegram_id,
            language=normalize_locale(language_code, default_locale),
        )
        session.add(user)
        session.flush()
    elif user.unreachable_since is not None:
        # They are writing to us, so they unblocked the bot: the outbox may reach them again.
        user.unreachable_since = None
        session.add(user)
    return user


def set_language(session: Session, *, telegram_id: int, language: str) -> User:
    user = session.get(User, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id)
    user.language = language
    user.language_chosen = True
    session.add(user)
    return user
