"""pages: someone must look now — raised, escalated by the policy as it was, acknowledged, resolved.

One open page per dedup key (a partial unique index); a notification at most once per page,
step, loop, person and channel (a unique key), which makes a retried escalation harmless.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 22:24:22.229015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.String(length=20000), server_default="", nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="triggered", nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("next_step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_loop", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.CheckConstraint(
            "status IN ('triggered', 'acknowledged', 'resolved')",
            name=op.f("ck_pages_known_status"),
        ),
        sa.CheckConstraint("urgency IN ('high', 'low')", name=op.f("ck_pages_known_urgency")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_pages_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_pages_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    op.create_index(op.f("ix_pages_case_id"), "pages", ["case_id"], unique=False)
    op.create_index(op.f("ix_pages_report_id"), "pages", ["report_id"], unique=False)
    op.create_index(
        "one_open_page_per_key",
        "pages",
        ["dedup_key"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index(
        "open_pages",
        "pages",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_table(
        "page_notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("link_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
            name=op.f("fk_page_notifications_page_id_pages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_page_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_notifications")),
        sa.UniqueConstraint(
            "page_id",
            "step",
            "loop",
            "user_id",
            "channel",
            name=op.f("uq_page_notifications_page_id"),
        ),
    )
    op.create_index(
        op.f("ix_page_notifications_page_id"), "page_notifications", ["page_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_page_notifications_page_id"), table_name="page_notifications")
    op.drop_table("page_notifications")
    op.drop_index(
        "open_pages", table_name="pages", postgresql_where=sa.text("status <> 'resolved'")
    )
    op.drop_index(
        "one_open_page_per_key",
        table_name="pages",
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index(op.f("ix_pages_report_id"), table_name="pages")
    op.drop_index(op.f("ix_pages_case_id"), table_name="pages")
    op.drop_table("pages")
