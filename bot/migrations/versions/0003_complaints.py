"""Complaints: tickets, evidence by Telegram file id, the message thread.

Revision ID: 0003_complaints
Revises: 0004_surveys
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0003_complaints"
down_revision = "0004_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket", sa.String(16), nullable=False, unique=True),
        sa.Column("complainant_id", sa.BigInteger(), nullable=False),
        sa.Column("complainant_name", sa.String(120), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("service_id", sa.String(80), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("privacy", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(80), nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), sa.ForeignKey("complaints.id"), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("received_at", AwareDateTime(), nullable=False),
        sa.Column("verify_due", AwareDateTime(), nullable=False),
        sa.Column("response_due", AwareDateTime(), nullable=False),
        sa.Column("resolve_due", AwareDateTime(), nullable=False),
        sa.Column("verified_at", AwareDateTime(), nullable=True),
        sa.Column("assigned_at", AwareDateTime(), nullable=True),
        sa.Column("first_response_at", AwareDateTime(), nullable=True),
        sa.Column("resolved_at", AwareDateTime(), nullable=True),
        sa.Column("close_due", AwareDateTime(), nullable=True),
        sa.Column("closed_at", AwareDateTime(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("feedback_at", AwareDateTime(), nullable=True),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_complaints_status_resolve_due", "complaints", ["status", "resolve_due"])
    op.create_index(
        "ix_complaints_complainant_received", "complaints", ["complainant_id", "received_at"]
    )
    op.create_index("ix_complaints_received_at", "complaints", ["received_at"])
    op.create_table(
        "complaint_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaints.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(255), nullable=False),
        sa.Column("added_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_complaint_evidence_complaint_id", "complaint_evidence", ["complaint_id"])
    op.create_table(
        "complaint_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaints.id"), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("author_kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_complaint_messages_complaint_id", "complaint_messages", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_messages")
    op.drop_table("complaint_evidence")
    op.drop_table("complaints")
