"""Applications, their history, followers and lookup failures; staff invites.

Revision ID: 0002_applications
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0002_applications"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracking_number", sa.String(16), nullable=False, unique=True),
        sa.Column("service_id", sa.String(80), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("verification_code", sa.String(12), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("received_at", AwareDateTime(), nullable=False),
        sa.Column("due_at", AwareDateTime(), nullable=False),
        sa.Column("closed_at", AwareDateTime(), nullable=True),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.Column("registered_by", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_applications_applicant_name", "applications", ["applicant_name"])
    op.create_index("ix_applications_open_due", "applications", ["status", "due_at"])
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id", sa.Integer(), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_index(
        "ix_application_events_application_id", "application_events", ["application_id"]
    )
    op.create_table(
        "application_followers",
        sa.Column(
            "application_id", sa.Integer(), sa.ForeignKey("applications.id"), primary_key=True
        ),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("since", AwareDateTime(), nullable=False),
    )
    op.create_table(
        "application_lookup_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_index(
        "ix_application_lookup_failures_user_id", "application_lookup_failures", ["user_id"]
    )
    op.create_table(
        "staff_invites",
        sa.Column("code", sa.String(24), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", AwareDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("staff_invites")
    op.drop_table("application_lookup_failures")
    op.drop_table("application_followers")
    op.drop_table("application_events")
    op.drop_table("applications")
