"""The table of API tokens: a name, the hash of the secret, an optional unit, and its life."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow


class ApiToken(SQLModel, table=True):
    """One client of the back-office API. Only the SHA-256 hash of the secret is kept, so a
    copy of the database opens nothing; a revoked token keeps its row (and its name, never
    given again) so the audit trail stays unambiguous."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # The reporting unit whose data the token reaches; None: the whole office.
    unit: str | None = Field(default=None, sa_column=Column(String(80), nullable=True))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    revoked_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))

    @property
    def active(self) -> bool:
        return self.revoked_at is None
