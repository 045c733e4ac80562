"""The staff console (bot/console): one-time login links, sessions (both stored as SHA-256
hashes), the satisfaction index's follow-up actions and the citizens who opted out of hearing
about them, and the history of knowledge-base edits made in the console; an index to list
applications newest first.

Revision ID: 0013_console
Revises: 0011_send_budget
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0013_console"
down_revision = "0011_send_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The console lists applications newest first, a page at a time.
    op.create_index("ix_applications_received_at", "applications", ["received_at"])
    op.create_table(
        "console_login_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=False),
        sa.Column("used_at", AwareDateTime(), nullable=True),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=False),
        sa.Column("revoked_at", AwareDateTime(), nullable=True),
    )
    op.create_table(
        "ikm_followups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit", sa.String(80), nullable=True),
        sa.Column("service_id", sa.String(80), nullable=True),
        sa.Column("element", sa.String(4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_ikm_followups_taken", "ikm_followups", ["taken_on"])
    op.create_table(
        "ikm_followup_optouts",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_table(
        "knowledge_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.BigInteger(), nullable=True),
        sa.Column("at", AwareDateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("knowledge_edits")
    op.drop_table("ikm_followup_optouts")
    op.drop_index("ix_ikm_followups_taken", "ikm_followups")
    op.drop_table("ikm_followups")
    op.drop_table("console_sessions")
    op.drop_table("console_login_links")
    op.drop_index("ix_applications_received_at", "applications")
