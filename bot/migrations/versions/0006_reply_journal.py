"""Reply journal: what a webhook update has sent, kept with the update until it is finished.

Revision ID: 0006_reply_journal
Revises: 0005_production
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reply_journal"
down_revision = "0005_production"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("replies", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("replies")
