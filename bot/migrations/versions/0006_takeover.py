"""Taking over a dead instance's updates: which instance took each one, what it had sent (the
reply journal), and an index of the unfinished ones for the instances' frequent look.

Revision ID: 0006_takeover
Revises: 0005_production
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_takeover"
down_revision = "0005_production"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("finished_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("taken_by", sa.BigInteger(), nullable=True))
    # Two days of handled ids stay in the table (Telegram's redelivery window); the look for
    # orphans reads only the few unfinished ones.
    op.create_index(
        "ix_processed_updates_unfinished",
        "processed_updates",
        ["processed_at"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_processed_updates_unfinished", "processed_updates")
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("taken_by")
        batch.drop_column("replies")
