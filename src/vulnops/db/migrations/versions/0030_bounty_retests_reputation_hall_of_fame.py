"""bounty retests, reputation and the hall of fame: retests of a fix (paid by the programme's
rule), the points the event log earned each researcher with their totals per period and the
scorer's cursor, and each researcher's consent to be named in public.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 14:31:11.189632
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounty_reputation_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_bounty_reputation_cursor_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_reputation_cursor")),
    )
    op.create_table(
        "bounty_hall_of_fame",
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("public_name", sa.String(length=100), nullable=False),
        sa.Column("listed", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["users.id"],
            name=op.f("fk_bounty_hall_of_fame_researcher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("researcher_id", name=op.f("pk_bounty_hall_of_fame")),
    )
    op.create_table(
        "bounty_reputation_totals",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["users.id"],
            name=op.f("fk_bounty_reputation_totals_researcher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "period", "researcher_id", name=op.f("pk_bounty_reputation_totals")
        ),
    )
    op.create_index(
        "ix_bounty_reputation_totals_rank",
        "bounty_reputation_totals",
        ["period", "points", "researcher_id"],
        unique=False,
    )
    op.create_table(
        "bounty_reputation_points",
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("points", sa.SmallInteger(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_bounty_reputation_points_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["users.id"],
            name=op.f("fk_bounty_reputation_points_researcher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "researcher_id", "report_id", "reason", name=op.f("pk_bounty_reputation_points")
        ),
    )
    op.create_table(
        "bounty_retests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ask", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'fixed', 'not_fixed', 'declined')",
            name=op.f("ck_bounty_retests_known_status"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_bounty_retests_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_bounty_retests_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"], ["users.id"], name=op.f("fk_bounty_retests_researcher_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_retests")),
    )
    op.create_index(
        "uq_bounty_retests_open",
        "bounty_retests",
        ["report_id"],
        unique=True,
        postgresql_where="status = 'requested'",
    )


def downgrade() -> None:
    op.drop_index(
        "uq_bounty_retests_open",
        table_name="bounty_retests",
        postgresql_where="status = 'requested'",
    )
    op.drop_table("bounty_retests")
    op.drop_table("bounty_reputation_points")
    op.drop_index("ix_bounty_reputation_totals_rank", table_name="bounty_reputation_totals")
    op.drop_table("bounty_reputation_totals")
    op.drop_table("bounty_hall_of_fame")
    op.drop_table("bounty_reputation_cursor")
