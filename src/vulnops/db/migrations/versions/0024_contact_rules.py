"""contact rules

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 06:38:08.948925
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_contact_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("urgency", sa.String(length=10), server_default="any", nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel <> 'chat' OR address IS NOT NULL",
            name=op.f("ck_oncall_contact_rules_chat_has_address"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'chat')", name=op.f("ck_oncall_contact_rules_known_channel")
        ),
        sa.CheckConstraint(
            "urgency IN ('any', 'high', 'low')", name=op.f("ck_oncall_contact_rules_known_urgency")
        ),
        sa.CheckConstraint(
            "delay_minutes BETWEEN 0 AND 120", name=op.f("ck_oncall_contact_rules_bounded_delay")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oncall_contact_rules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_contact_rules")),
        sa.UniqueConstraint(
            "user_id",
            "channel",
            "delay_minutes",
            "urgency",
            name=op.f("uq_oncall_contact_rules_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_oncall_contact_rules_user_id"), "oncall_contact_rules", ["user_id"], unique=False
    )
    op.add_column(
        "page_notifications",
        sa.Column("delay_minutes", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("page_notifications", sa.Column("rule_id", sa.BigInteger(), nullable=True))
    op.create_index(
        op.f("ix_page_notifications_rule_id"), "page_notifications", ["rule_id"], unique=False
    )
    op.drop_constraint(op.f("uq_page_notifications_page_id"), "page_notifications", type_="unique")
    op.create_unique_constraint(
        op.f("uq_page_notifications_page_id"),
        "page_notifications",
        ["page_id", "step", "loop", "user_id", "channel", "delay_minutes"],
    )
    op.create_foreign_key(
        op.f("fk_page_notifications_rule_id_oncall_contact_rules"),
        "page_notifications",
        "oncall_contact_rules",
        ["rule_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_page_notifications_rule_id_oncall_contact_rules"),
        "page_notifications",
        type_="foreignkey",
    )
    op.drop_constraint(op.f("uq_page_notifications_page_id"), "page_notifications", type_="unique")
    op.create_unique_constraint(
        op.f("uq_page_notifications_page_id"),
        "page_notifications",
        ["page_id", "step", "loop", "user_id", "channel"],
        postgresql_nulls_not_distinct=False,
    )
    op.drop_index(op.f("ix_page_notifications_rule_id"), table_name="page_notifications")
    op.drop_column("page_notifications", "rule_id")
    op.drop_column("page_notifications", "delay_minutes")
    op.drop_index(op.f("ix_oncall_contact_rules_user_id"), table_name="oncall_contact_rules")
    op.drop_table("oncall_contact_rules")
