"""Scale-out tables: taken updates (with the webhook's stored copy) and per-user flood counts.

Revision ID: 0005_production
Revises: 0003_complaints
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0005_production"
down_revision = "0003_complaints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("processed_at", AwareDateTime(), nullable=False),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
    )
    op.create_index("ix_processed_updates_processed_at", "processed_updates", ["processed_at"])
    op.create_table(
        "flood_counts",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("minute", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flood_counts")
    op.drop_index("ix_processed_updates_processed_at", "processed_updates")
    op.drop_table("processed_updates")
