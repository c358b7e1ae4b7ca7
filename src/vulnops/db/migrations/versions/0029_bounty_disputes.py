"""bounty disputes: a researcher disputing an award or a closure, with a deadline for staff.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 12:14:43.735391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounty_disputes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("opened_by", sa.BigInteger(), nullable=False),
        sa.Column("about", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=320), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered')", name=op.f("ck_bounty_disputes_known_status")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_bounty_disputes_opened_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_bounty_disputes_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_disputes")),
    )
    op.create_index(
        "ix_bounty_disputes_open_due",
        "bounty_disputes",
        ["due_at"],
        unique=False,
        postgresql_where="status = 'open'",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_bounty_disputes_open_due",
        table_name="bounty_disputes",
        postgresql_where="status = 'open'",
    )
    op.drop_table("bounty_disputes")
