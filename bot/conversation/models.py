"""The table of the conversation feature: what each chat's dialogue is about (migration
0010_dialogue_context)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from bot.core.models import UtcDateTime, utcnow


class DialogueContextRow(SQLModel, table=True):
    __tablename__ = "dialogue_contexts"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    service_id: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    topic: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    variant: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    pending_kind: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    pending_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
