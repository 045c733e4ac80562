"""Unanswered questions handled in the console (issue 18): when, by whom, and how (the
knowledge file that now answers it, or none).

Revision ID: 0015_console2
Revises: 0017_apps19
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0015_console2"
down_revision = "0017_apps19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("handled_at", AwareDateTime(), nullable=True))
        batch.add_column(sa.Column("handled_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("handled_as", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("handled_as")
        batch.drop_column("handled_by")
        batch.drop_column("handled_at")
