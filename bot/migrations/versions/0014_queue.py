"""Queue booking (issue 17): seats per slot, bookings and tickets, officers' counters,
disruption notices and who was told of them.

Revision ID: 0014_queue
Revises: 0013_console
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0014_queue"
down_revision = "0013_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_slots",
        sa.Column("service_id", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("start", sa.String(5), primary_key=True),
        sa.Column("taken_regular", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("taken_priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "queue_bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(8), nullable=False, unique=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=True),
        sa.Column("slot_at", AwareDateTime(), nullable=True),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("priority_reason", sa.String(16), nullable=True),
        sa.Column("seat", sa.String(8), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=True),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.Column("counter", sa.String(8), nullable=True),
        sa.Column("called_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("cancelled_at", AwareDateTime(), nullable=True),
        sa.Column("checked_in_at", AwareDateTime(), nullable=True),
        sa.Column("called_at", AwareDateTime(), nullable=True),
        sa.Column("done_at", AwareDateTime(), nullable=True),
        sa.Column("reminded_evening", sa.Boolean(), nullable=False),
        sa.Column("reminded_morning", sa.Boolean(), nullable=False),
        sa.Column("near_told", sa.Boolean(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("day", "ticket", name="uq_queue_bookings_ticket"),
    )
    op.create_index("ix_queue_bookings_user_id", "queue_bookings", ["user_id"])
    op.create_index("ix_queue_bookings_day_status", "queue_bookings", ["day", "status"])
    op.create_table(
        "queue_desks",
        sa.Column("officer_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("counter", sa.String(8), nullable=False),
        sa.Column("current_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    )
    op.create_table(
        "queue_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.String(40), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("ends_at", AwareDateTime(), nullable=False),
        sa.Column("ended_at", AwareDateTime(), nullable=True),
        sa.Column("all_clear_sent", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "queue_notice_recipients",
        sa.Column("notice_id", sa.Integer(), sa.ForeignKey("queue_notices.id"), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    op.drop_table("queue_notice_recipients")
    op.drop_table("queue_notices")
    op.drop_table("queue_desks")
    op.drop_index("ix_queue_bookings_day_status", "queue_bookings")
    op.drop_index("ix_queue_bookings_user_id", "queue_bookings")
    op.drop_table("queue_bookings")
    op.drop_table("queue_slots")
