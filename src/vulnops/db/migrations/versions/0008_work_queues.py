"""work queues: the indexes behind each role's home page counts (the reports whose reporter
wrote last, a reporter's questions to answer, a reporter's reports by change, a person's fixes,
advisory versions not sent, emails not sent yet); a question to a reporter counts as the team's
turn in the conversation (``last_staff_message_at``), for reports asked before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORTER_SPOKE_LAST = (
    "state <> 'closed' AND last_reporter_message_at IS NOT NULL AND "
    "(last_staff_message_at IS NULL OR last_reporter_message_at > last_staff_message_at)"
)
TEAM_ASKED = (
    "state = 'needs_info' AND NOT (last_reporter_message_at IS NOT NULL AND "
    "(last_staff_message_at IS NULL OR last_reporter_message_at > last_staff_message_at))"
)


def upgrade() -> None:
    op.execute(
        "UPDATE reports SET last_staff_message_at = updated_at "
        "WHERE state = 'needs_info' AND (last_staff_message_at IS NULL "
        "OR last_staff_message_at < updated_at) "
        "AND (last_reporter_message_at IS NULL OR last_reporter_message_at < updated_at)"
    )
    op.create_index(
        "ix_reports_reporter_spoke_last",
        "reports",
        ["last_reporter_message_at"],
        postgresql_where=sa.text(REPORTER_SPOKE_LAST),
    )
    op.create_index(
        "ix_reports_team_asked",
        "reports",
        ["reporter_id", "updated_at", "id"],
        postgresql_where=sa.text(TEAM_ASKED),
    )
    op.create_index("ix_reports_reporter_updated", "reports", ["reporter_id", "updated_at", "id"])
    op.create_index("ix_fixes_created_by", "fixes", ["created_by", "id"])
    op.create_index(
        "ix_advisory_versions_unsent",
        "advisory_versions",
        ["created_at"],
        postgresql_where=sa.text("status IN ('draft', 'approved')"),
    )
    op.create_index(
        "ix_outbound_emails_queued",
        "outbound_emails",
        ["created_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_emails_queued", table_name="outbound_emails")
    op.drop_index("ix_advisory_versions_unsent", table_name="advisory_versions")
    op.drop_index("ix_fixes_created_by", table_name="fixes")
    op.drop_index("ix_reports_reporter_updated", table_name="reports")
    op.drop_index("ix_reports_team_asked", table_name="reports")
    op.drop_index("ix_reports_reporter_spoke_last", table_name="reports")
