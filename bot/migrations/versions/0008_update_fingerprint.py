"""A fingerprint of each handled update's content, so that an update id used again for a
different update (an emulator or bot restarted, Telegram restarting its numbering, a database
moved to another bot) is handled as new instead of dropped as a redelivery (bot/webhook/store.py).

Rows stored before have none and count as a different update when their id comes again.

Revision ID: 0008_update_fingerprint
Revises: 0007_webhook_answer
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_update_fingerprint"
down_revision = "0007_webhook_answer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("fingerprint")
