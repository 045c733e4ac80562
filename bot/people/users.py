"""Citizens, officers and admins as the bot knows them: one row per Telegram user."""

from __future__ import annotations

from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from bot.core.db import Database
from bot.core.i18n import normalize_locale
from bot.core.models import User, utcnow


def user_language(
    db: Database, *, telegram_id: int, language_code: str | None, default_locale: str = "id"
) -> str:
    """The language to answer this user in, for every update they send.

    At first contact their row is created with a language from Telegram's language_code; a
    user marked unreachable (they had blocked the bot) is reachable again, since they are
    writing to us. The usual case is one read; the others one upsert, so two processes seeing
    a new user at once both succeed.
    """
    known = db.lookup(
        "SELECT language, unreachable_since IS NULL FROM users WHERE telegram_id = %s",
        (telegram_id,),
    )
    if known is not None and known[1]:
        return known[0]
    language = normalize_locale(language_code, default_locale)
    if db.is_postgres:
        # The same upsert as below, straight on the driver (a citizen's first message is
        # common under load); committed durably, on the main engine.
        conn = db.engine.raw_connection()
        try:
            cursor = conn.cursor()
            cursor.execute(
                "INSERT INTO users (telegram_id, language, language_chosen, first_seen)"
                " VALUES (%s, %s, false, now()) ON CONFLICT (telegram_id)"
                " DO UPDATE SET unreachable_since = NULL RETURNING language",
                (telegram_id, language),
            )
            (stored,) = cursor.fetchone()
            cursor.close()
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        finally:
            conn.close()
        return stored
    insert = sqlite.insert
    stmt = (
        insert(User)
        .values(
            telegram_id=telegram_id,
            language=language,
            language_chosen=False,
            first_seen=utcnow(),
        )
        .on_conflict_do_update(index_elements=["telegram_id"], set_={"unreachable_since": None})
        .returning(User.language)
    )
    with db.engine.begin() as conn:
        return conn.execute(stmt).scalar_one()


def set_language(session: Session, *, telegram_id: int, language: str) -> User:
    user = session.get(User, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id)
    user.language = language
    user.language_chosen = True
    session.add(user)
    return user
