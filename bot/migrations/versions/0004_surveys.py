"""Satisfaction surveys: invitations (one per transaction) and responses (one per invitation).

Revision ID: 0004_surveys
Revises: 0002_applications
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0004_surveys"
down_revision = "0002_applications"
branch_labels = None
depends_on = None

ANSWER_COLUMNS = 16  # u1..u16, see bot.surveys.MAX_ELEMENTS


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("transaction_key", sa.String(120), nullable=False, unique=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.String(80), nullable=False),
        sa.Column("unit", sa.String(80), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_at", AwareDateTime(), nullable=True),
        sa.Column("due_at", AwareDateTime(), nullable=False),
        sa.Column("sent_at", AwareDateTime(), nullable=True),
        sa.Column("reminded_at", AwareDateTime(), nullable=True),
        sa.Column("expires_at", AwareDateTime(), nullable=True),
        sa.Column("closed_at", AwareDateTime(), nullable=True),
        sa.Column("close_reason", sa.String(24), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_survey_invitations_user_id", "survey_invitations", ["user_id"])
    op.create_index("ix_survey_invitations_due", "survey_invitations", ["status", "next_at"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "invitation_id",
            sa.Integer(),
            sa.ForeignKey("survey_invitations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("service_id", sa.String(80), nullable=False),
        sa.Column("unit", sa.String(80), nullable=True),
        *[
            sa.Column(f"u{n}", sa.SmallInteger(), nullable=True)
            for n in range(1, ANSWER_COLUMNS + 1)
        ],
        sa.Column("suggestion", sa.Text(), nullable=True),
        sa.Column("age_group", sa.String(12), nullable=True),
        sa.Column("sex", sa.String(12), nullable=True),
        sa.Column("education", sa.String(12), nullable=True),
        sa.Column("occupation", sa.String(12), nullable=True),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("started_at", AwareDateTime(), nullable=False),
        sa.Column("completed_at", AwareDateTime(), nullable=True),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        *[
            sa.CheckConstraint(f"u{n} BETWEEN 1 AND 4", name=f"ck_survey_responses_u{n}")
            for n in range(1, ANSWER_COLUMNS + 1)
        ],
    )
    op.create_index("ix_survey_responses_completed", "survey_responses", ["completed_at"])
    op.create_index(
        "ix_survey_responses_service", "survey_responses", ["service_id", "completed_at"]
    )
    # The report's sample check counts the applications completed in a period.
    op.create_index("ix_applications_completed", "applications", ["status", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_applications_completed", table_name="applications")
    op.drop_table("survey_responses")
    op.drop_table("survey_invitations")
