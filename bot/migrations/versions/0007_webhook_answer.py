"""The message an update's webhook answer carried, given again if Telegram sends the update
again (bot/webhook/answer.py, WebhookAnswer).

Revision ID: 0007_webhook_answer
Revises: 0006_takeover
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_webhook_answer"
down_revision = "0006_takeover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("answer")
