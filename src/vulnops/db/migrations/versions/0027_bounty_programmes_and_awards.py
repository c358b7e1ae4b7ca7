"""bounty programmes and awards.

A programme keeps its scope as data and the award table in force; an award keeps the table as
it was when the award was proposed, what was proposed and why, and what a person made of it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 11:52:58.114093
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounty_programs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.Text(), server_default="", nullable=False),
        sa.Column("scope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("award_table", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_programs")),
        sa.UniqueConstraint("key", name=op.f("uq_bounty_programs_key")),
    )
    op.create_table(
        "bounty_awards",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("impact", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=100), nullable=False),
        sa.Column("quality", sa.String(length=100), nullable=False),
        sa.Column("scenarios", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("adjustment_reason", sa.Text(), nullable=True),
        sa.Column("split", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("table_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("proposed_by", sa.String(length=320), nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'pending_approval', 'approved', 'rejected')",
            name=op.f("ck_bounty_awards_known_status"),
        ),
        sa.CheckConstraint(
            "amount >= 0 AND proposed_amount >= 0",
            name=op.f("ck_bounty_awards_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_bounty_awards_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_awards")),
        sa.UniqueConstraint("report_id", name=op.f("uq_bounty_awards_report_id")),
    )


def downgrade() -> None:
    op.drop_table("bounty_awards")
    op.drop_table("bounty_programs")
