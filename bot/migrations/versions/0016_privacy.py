"""Anonymity and erasure (issue 16): audit lines that tied an anonymous complaint's ticket to
its complainant (the complainant recorded as the actor of filing, closing, reopening or rating
it) lose the actor; the lines of past erasures lose the erased person's id.

Revision ID: 0016_privacy
Revises: 0018_complaints19
"""

from alembic import op

revision = "0016_privacy"
down_revision = "0018_complaints19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE audit_log SET actor_id = NULL
        WHERE actor_id IS NOT NULL
          AND action LIKE 'complaint.%'
          AND EXISTS (
              SELECT 1 FROM complaints
              WHERE complaints.ticket = audit_log.subject
                AND complaints.privacy = 'anonymous'
                AND complaints.complainant_id = audit_log.actor_id
          )
        """
    )
    op.execute(
        "UPDATE audit_log SET subject = NULL WHERE action = 'personal_data.erased'"
    )


def downgrade() -> None:
    # What was cleared is gone on purpose; nothing to restore.
    pass
