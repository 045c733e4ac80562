"""Named tokens of the back-office API (bot/api_tokens): the SHA-256 of each secret, its unit,
when it was made, last used and revoked; and the audit trail's api_token column, the name of
the token a change was made with.

Revision ID: 0015_api_tokens
Revises: 0015_console2
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0015_api_tokens"
down_revision = "0015_console2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(80), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("last_used_at", AwareDateTime(), nullable=True),
        sa.Column("revoked_at", AwareDateTime(), nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("api_token", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("api_token")
    op.drop_table("api_tokens")
