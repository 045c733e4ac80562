"""Flood control: updates per user per clock minute, one count shared by every instance."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    delete,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from bot.core.models import utcnow

log = logging.getLogger(__name__)

class FloodCount(SQLModel, table=True):
    """Updates from one user in one clock minute, shared by every process."""

    __tablename__ = "flood_counts"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    minute: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    count: int = 0


def clock_minute(now: datetime) -> int:
    return int(now.timestamp() // 60)


def flood_verdict(
    session: Session, *, user_id: int, limit: int, now: datetime | None = None
) -> str:
    """Count one update of the user; "ok", "notify" (first one over the limit) or "silent".

    Counted in fixed clock minutes with an atomic upsert, so every process sees one count. The
    notice is given once: not again in the same minute, nor in the next while the user keeps
    flooding; a calm minute resets it.
    """
    if limit <= 0:
        return "ok"
    minute = clock_minute(now or utcnow())
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    stmt = (
        insert(FloodCount)
        .values(user_id=user_id, minute=minute, count=1)
        .on_conflict_do_update(
            index_elements=["user_id", "minute"], set_={"count": FloodCount.count + 1}
        )
        .returning(FloodCount.count)
    )
    count = session.exec(stmt).scalar_one()
    if count != limit + 1:
        return verdict_for(count, None, limit)
    previous = session.get(FloodCount, (user_id, minute - 1))
    return verdict_for(count, previous.count if previous is not None else None, limit)


def verdict_for(count: int, previous: int | None, limit: int) -> str:
    """This minute's count so far and the previous minute's (None: no row) -> the verdict."""
    if count <= limit:
        return "ok"
    if count > limit + 1:
        return "silent"
    return "silent" if previous is not None and previous > limit else "notify"


def prune_flood_counts(session: Session, *, now: datetime | None = None) -> int:
    """Drop counts of past minutes (the previous one is still read)."""
    oldest_kept = clock_minute(now or utcnow()) - 1
    result = session.exec(delete(FloodCount).where(FloodCount.minute < oldest_kept))
    return result.rowcount or 0


