"""Dialogue context per chat: the service a follow-up question is about (bot/conversation).

Revision ID: 0010_dialogue_context
Revises: 0009_unanswered
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0010_dialogue_context"
down_revision = "0009_unanswered"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogue_contexts",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("service_id", sa.String(40), nullable=True),
        sa.Column("topic", sa.String(16), nullable=True),
        sa.Column("variant", sa.String(120), nullable=True),
        sa.Column("pending_kind", sa.String(16), nullable=True),
        sa.Column("pending_text", sa.Text(), nullable=True),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dialogue_contexts")
