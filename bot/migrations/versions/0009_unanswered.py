"""Unanswered questions (the anonymous log, who asked, hand-offs to an officer) and the
knowledge base version every instance polls.

Revision ID: 0009_unanswered
Revises: 0008_update_fingerprint
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0009_unanswered"
down_revision = "0008_update_fingerprint"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("service_id", sa.String(80), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("rated_down", sa.Integer(), nullable=False),
        sa.Column("first_at", AwareDateTime(), nullable=False),
        sa.Column("last_at", AwareDateTime(), nullable=False),
    )
    op.create_index("ix_unanswered_last_at", "unanswered_questions", ["last_at"])
    op.create_table(
        "question_asks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(80), nullable=True),
        sa.Column("topic", sa.String(40), nullable=True),
        sa.Column("understood", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column(
            "question_id", sa.Integer(), sa.ForeignKey("unanswered_questions.id"), nullable=True
        ),
        sa.Column("asked_at", AwareDateTime(), nullable=False),
        sa.Column("rated_at", AwareDateTime(), nullable=True),
    )
    op.create_index("ix_question_asks_user_id", "question_asks", ["user_id"])
    op.create_index("ix_question_asks_question_id", "question_asks", ["question_id"])
    op.create_index("ix_question_asks_asked_at", "question_asks", ["asked_at"])
    op.create_table(
        "officer_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ask_id", sa.Integer(), sa.ForeignKey("question_asks.id"), nullable=True, unique=True
        ),
        sa.Column(
            "question_id", sa.Integer(), sa.ForeignKey("unanswered_questions.id"), nullable=True
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(80), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("officer_id", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("asked_at", AwareDateTime(), nullable=False),
        sa.Column("answered_at", AwareDateTime(), nullable=True),
    )
    op.create_index("ix_officer_questions_user_id", "officer_questions", ["user_id"])
    op.create_index("ix_officer_questions_question_id", "officer_questions", ["question_id"])
    op.create_index("ix_officer_questions_status", "officer_questions", ["status", "asked_at"])
    op.create_table(
        "knowledge_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("services", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", AwareDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("knowledge_version")
    op.drop_table("officer_questions")
    op.drop_table("question_asks")
    op.drop_table("unanswered_questions")
