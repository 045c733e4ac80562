"""The bot's send budget, shared by every instance (bot/sendrate/budget.py): one token bucket
row for the bot and one per group chat, with the pause a 429 asked for.

Revision ID: 0011_send_budget
Revises: 0010_dialogue_context
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_send_budget"
down_revision = "0010_dialogue_context"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
