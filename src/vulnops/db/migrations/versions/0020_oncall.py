"""on call: schedules, layers and their memberships over time, overrides, escalation policies.

A layer's members are kept as memberships, each from an instant with the offset that kept the
rotation's turn, so that a change of members never resets the rotation and past shifts stay
as they were. Escalation targets reference users and schedules (foreign keys), not text.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 22:14:25.132809
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("repeat", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "repeat BETWEEN 0 AND 10", name=op.f("ck_escalation_policies_bounded_repeat")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("key", name=op.f("uq_escalation_policies_key")),
    )
    op.create_index(
        "one_default_policy",
        "escalation_policies",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "oncall_schedules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_schedules")),
        sa.UniqueConstraint("key", name=op.f("uq_oncall_schedules_key")),
    )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "delay_minutes >= 0", name=op.f("ck_escalation_steps_delay_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_escalation_steps_policy_id_escalation_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
    )
    op.create_index(
        op.f("ix_escalation_steps_policy_id"), "escalation_steps", ["policy_id"], unique=False
    )
    op.create_table(
        "oncall_layers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_local", sa.DateTime(), nullable=False),
        sa.Column("rotation", sa.String(length=500), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column(
            "restrictions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedules.id"],
            name=op.f("fk_oncall_layers_schedule_id_oncall_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_layers")),
        sa.UniqueConstraint("schedule_id", "name", name=op.f("uq_oncall_layers_schedule_id")),
    )
    op.create_table(
        "oncall_service_policies",
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_oncall_service_policies_policy_id_escalation_policies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_oncall_service_policies_service_id_services"),
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_oncall_service_policies")),
    )
    op.create_table(
        "escalation_targets",
        sa.Column("step_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("schedule_id", sa.BigInteger(), nullable=True),
        sa.Column("layer", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "(user_id IS NOT NULL AND schedule_id IS NULL AND layer IS NULL) OR (user_id IS NULL AND schedule_id IS NOT NULL)",
            name=op.f("ck_escalation_targets_one_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedules.id"],
            name=op.f("fk_escalation_targets_schedule_id_oncall_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["escalation_steps.id"],
            name=op.f("fk_escalation_targets_step_id_escalation_steps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_escalation_targets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("step_id", "position", name=op.f("pk_escalation_targets")),
    )
    op.create_table(
        "oncall_memberships",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offset", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["oncall_layers.id"],
            name=op.f("fk_oncall_memberships_layer_id_oncall_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_memberships")),
    )
    op.create_index(
        op.f("ix_oncall_memberships_layer_id"), "oncall_memberships", ["layer_id"], unique=False
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_oncall_overrides_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedules.id"],
            name=op.f("fk_oncall_overrides_schedule_id_oncall_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oncall_overrides_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_overrides")),
    )
    op.create_index(
        op.f("ix_oncall_overrides_schedule_id"), "oncall_overrides", ["schedule_id"], unique=False
    )
    op.create_table(
        "oncall_members",
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["oncall_memberships.id"],
            name=op.f("fk_oncall_members_membership_id_oncall_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oncall_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("membership_id", "position", name=op.f("pk_oncall_members")),
    )
    op.create_index(op.f("ix_oncall_members_user_id"), "oncall_members", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oncall_members_user_id"), table_name="oncall_members")
    op.drop_table("oncall_members")
    op.drop_index(op.f("ix_oncall_overrides_schedule_id"), table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
    op.drop_index(op.f("ix_oncall_memberships_layer_id"), table_name="oncall_memberships")
    op.drop_table("oncall_memberships")
    op.drop_table("escalation_targets")
    op.drop_table("oncall_service_policies")
    op.drop_table("oncall_layers")
    op.drop_index(op.f("ix_escalation_steps_policy_id"), table_name="escalation_steps")
    op.drop_table("escalation_steps")
    op.drop_table("oncall_schedules")
    op.drop_index(
        "one_default_policy",
        table_name="escalation_policies",
        postgresql_where=sa.text("is_default"),
    )
    op.drop_table("escalation_policies")
