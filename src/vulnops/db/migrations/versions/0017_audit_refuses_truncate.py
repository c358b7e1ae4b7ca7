"""the event log refuses TRUNCATE; the quotas' counts have their indexes.

The row trigger of 0001 refuses UPDATE and DELETE, but TRUNCATE fires no row trigger: one
statement emptied the log and only `vulnops audit verify` noticed, afterwards. A statement-level
BEFORE TRUNCATE trigger (the same function: it names the refused operation) closes that.

Self-registrations are counted per client address in the last hour, and attachment bytes per
uploader in the last day, each from an index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable()"
    )
    op.create_table(
        "registration_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_attempts")),
    )
    op.create_index(
        "ix_registration_attempts_address_at",
        "registration_attempts",
        ["address", "at"],
        unique=False,
    )
    op.create_index(
        "ix_report_attachments_uploaded_by_created_at",
        "report_attachments",
        ["uploaded_by", "created_at"],
        unique=False,
        postgresql_include=["size"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_attachments_uploaded_by_created_at", table_name="report_attachments")
    op.drop_index("ix_registration_attempts_address_at", table_name="registration_attempts")
    op.drop_table("registration_attempts")
    op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
