"""Following an application (issue 19): applicants' phone numbers in one form (+62...) and
indexed, so a citizen who shares their number finds their applications; the messages between
an applicant and the officer about an application (replies to "needs correction").

Revision ID: 0017_apps19
Revises: 0014_queue
"""

import sqlalchemy as sa
from alembic import op

from bot.core.models import AwareDateTime

revision = "0017_apps19"
down_revision = "0014_queue"
branch_labels = None
depends_on = None


def _normalize_phone(text: str) -> str | None:
    """bot/applications/phones.py's rule as of this revision (a migration keeps its own copy:
    the feature's rule may change later, what this step did may not)."""
    compact = "".join(ch for ch in text.strip() if ch not in " -().\u00a0")
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    elif compact.startswith("0"):
        digits = "62" + compact[1:]
    else:
        digits = compact
    if not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):
        return None
    return "+" + digits if 6 <= len(digits) <= 15 else None


def upgrade() -> None:
    applications = sa.table(
        "applications", sa.column("id", sa.Integer()), sa.column("phone", sa.String(40))
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(applications.c.id, applications.c.phone).where(
            applications.c.phone.is_not(None)
        )
    ).all()
    for row_id, phone in rows:
        normalised = _normalize_phone(phone)
        if normalised != phone:
            # A number written another way (0812..., 62812...) now reads +62812...; one that
            # is no phone number at all is dropped rather than kept unusable.
            bind.execute(
                sa.update(applications)
                .where(applications.c.id == row_id)
                .values(phone=normalised)
            )
    op.create_index("ix_applications_phone", "applications", ["phone"])
    op.create_table(
        "application_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id", sa.Integer(), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("direction", sa.String(12), nullable=False),
        sa.Column("citizen_id", sa.BigInteger(), nullable=False),
        sa.Column("officer_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.String(2000), nullable=True),
        sa.Column("attachment", sa.String(12), nullable=True),
        sa.Column("file_id", sa.String(200), nullable=True),
        sa.Column("at", AwareDateTime(), nullable=False),
    )
    op.create_index(
        "ix_application_messages_application_id", "application_messages", ["application_id"]
    )
    op.create_index("ix_application_messages_citizen_id", "application_messages", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_application_messages_citizen_id", table_name="application_messages")
    op.drop_index("ix_application_messages_application_id", table_name="application_messages")
    op.drop_table("application_messages")
    op.drop_index("ix_applications_phone", table_name="applications")
