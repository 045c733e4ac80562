"""Core tables: users, conversation state, outbox, staff roles, audit log.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("telegram_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("language_chosen", sa.Boolean(), nullable=False),
        sa.Column("first_seen", AwareDateTime(), nullable=False),
        sa.Column("unreachable_since", AwareDateTime(), nullable=True),
    )
    op.create_table(
        "conversation_states",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", AwareDateTime(), nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=True, unique=True),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("claimed_at", AwareDateTime(), nullable=True),
        sa.Column("sent_at", AwareDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "not_before"])
    op.create_table(
        "staff",
        sa.Column("telegram_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(80), nullable=True),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", AwareDateTime(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("staff")
    op.drop_table("outbox")
    op.drop_table("conversation_states")
    op.drop_table("users")
