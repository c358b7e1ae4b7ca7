"""fixes and rollouts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:28:46.726643
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sim_faults",
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("fault", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_sim_faults_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "version", name=op.f("pk_sim_faults")),
    )
    op.create_table(
        "sim_deployments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["deployment_units.id"],
            name=op.f("fk_sim_deployments_unit_id_deployment_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_deployments")),
        sa.UniqueConstraint("unit_id", "key", name=op.f("uq_sim_deployments_unit_id")),
    )
    op.create_index(
        "ix_sim_deployments_unit_since", "sim_deployments", ["unit_id", "since"], unique=False
    )
    op.create_table(
        "fixes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("artifact", sa.String(length=500), server_default="", nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.String(length=320), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_fixes_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_fixes_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixes")),
        sa.UniqueConstraint("case_id", "service_id", "version", name=op.f("uq_fixes_case_id")),
    )
    op.create_index(op.f("ix_fixes_case_id"), "fixes", ["case_id"], unique=False)
    op.create_table(
        "fix_evidence",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("fix_id", sa.BigInteger(), nullable=False),
        sa.Column("suite", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("tests", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed_cases", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("uploaded_by", sa.String(length=320), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "suite IN ('compatibility', 'data_integrity')", name=op.f("ck_fix_evidence_known_suite")
        ),
        sa.ForeignKeyConstraint(
            ["fix_id"], ["fixes.id"], name=op.f("fk_fix_evidence_fix_id_fixes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fix_evidence")),
    )
    op.create_index(
        "ix_fix_evidence_fix_suite", "fix_evidence", ["fix_id", "suite", "id"], unique=False
    )
    op.create_table(
        "rollouts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("fix_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("target_version", sa.String(length=100), nullable=False),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("health_source", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.Column("approver", sa.String(length=320), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence_overridden", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('awaiting_approval', 'running', 'paused', 'halted', 'rolling_back', 'completed', 'rolled_back', 'aborted')",
            name=op.f("ck_rollouts_known_status"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_rollouts_case_id_cases")),
        sa.ForeignKeyConstraint(["fix_id"], ["fixes.id"], name=op.f("fk_rollouts_fix_id_fixes")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_rollouts_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
    )
    op.create_index(op.f("ix_rollouts_case_id"), "rollouts", ["case_id"], unique=False)
    op.create_index(op.f("ix_rollouts_fix_id"), "rollouts", ["fix_id"], unique=False)
    op.create_index(
        "uq_rollouts_active_service",
        "rollouts",
        ["service_id"],
        unique=True,
        postgresql_where=sa.text(
            "status IN ('awaiting_approval', 'halted', 'paused', 'rolling_back', 'running')"
        ),
    )
    op.create_table(
        "rollout_stages",
        sa.Column("rollout_id", sa.BigInteger(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("regions", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("traffic", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("begun_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("baking_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("verdict_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("holding_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("gate", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("observed_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'deploying', 'baking', 'passed', 'failed')",
            name=op.f("ck_rollout_stages_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_stages_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rollout_id", "index", name=op.f("pk_rollout_stages")),
    )
    op.create_table(
        "rollout_units",
        sa.Column("rollout_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("from_version", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'deploying', 'deployed', 'failed', 'rolling_back', 'rolled_back', 'rollback_failed')",
            name=op.f("ck_rollout_units_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_units_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["deployment_units.id"],
            name=op.f("fk_rollout_units_unit_id_deployment_units"),
        ),
        sa.PrimaryKeyConstraint("rollout_id", "unit_id", name=op.f("pk_rollout_units")),
    )
    op.create_index(
        "ix_rollout_units_stage", "rollout_units", ["rollout_id", "stage"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_rollout_units_stage", table_name="rollout_units")
    op.drop_table("rollout_units")
    op.drop_table("rollout_stages")
    op.drop_index(
        "uq_rollouts_active_service",
        table_name="rollouts",
        postgresql_where=sa.text(
            "status IN ('awaiting_approval', 'halted', 'paused', 'rolling_back', 'running')"
        ),
    )
    op.drop_index(op.f("ix_rollouts_fix_id"), table_name="rollouts")
    op.drop_index(op.f("ix_rollouts_case_id"), table_name="rollouts")
    op.drop_table("rollouts")
    op.drop_index("ix_fix_evidence_fix_suite", table_name="fix_evidence")
    op.drop_table("fix_evidence")
    op.drop_index(op.f("ix_fixes_case_id"), table_name="fixes")
    op.drop_table("fixes")
    op.drop_index("ix_sim_deployments_unit_since", table_name="sim_deployments")
    op.drop_table("sim_deployments")
    op.drop_table("sim_faults")
