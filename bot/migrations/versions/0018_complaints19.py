"""Complaints that follow their ticket (issue 19): the place in the citizen's words, the
officers' group post kept to be edited (the outbox remembers the message id of what it sent,
and an edit names the row it edits), and staff names as colleagues see them.

Revision ID: 0018_complaints19
Revises: 0015_api_tokens
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_complaints19"
down_revision = "0015_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("place", sa.String(200), nullable=True))
        batch.add_column(sa.Column("group_post_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("edit_of", sa.Integer(), nullable=True))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("name", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("edit_of")
        batch.drop_column("message_id")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("group_post_id")
        batch.drop_column("place")
