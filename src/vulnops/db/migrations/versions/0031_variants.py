"""Root causes and variants: services' source repositories, root causes, structural
improvements, case links, hunts with their locations and findings, closed weakness classes and
their guards; an index of cases by weakness (the classes page and history hunts group and look
cases up by it).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 22:43:34.295678
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_cwe_id", "cases", ["cwe_id"])
    op.create_table(
        "weakness_classes",
        sa.Column("cwe_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("closed_by", sa.String(length=320), nullable=False),
        sa.Column(
            "closed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("cwe_id", name=op.f("pk_weakness_classes")),
    )
    op.add_column(
        "services",
        sa.Column(
            "repositories",
            postgresql.ARRAY(sa.String(length=1000)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "case_links",
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "relation IN ('variant', 'bypass', 'regression')",
            name=op.f("ck_case_links_known_relation"),
        ),
        sa.CheckConstraint("child_id <> parent_id", name=op.f("ck_case_links_not_itself")),
        sa.ForeignKeyConstraint(
            ["child_id"], ["cases.id"], name=op.f("fk_case_links_child_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["cases.id"], name=op.f("fk_case_links_parent_id_cases")
        ),
        sa.PrimaryKeyConstraint("child_id", "parent_id", name=op.f("pk_case_links")),
    )
    op.create_index(op.f("ix_case_links_parent_id"), "case_links", ["parent_id"], unique=False)
    op.create_table(
        "hunts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'finished', 'failed')",
            name=op.f("ck_hunts_known_state"),
        ),
        sa.CheckConstraint(
            "strategy IN ('code', 'sarif', 'components', 'configuration', 'history')",
            name=op.f("ck_hunts_known_strategy"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_hunts_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hunts")),
    )
    op.create_index(op.f("ix_hunts_case_id"), "hunts", ["case_id"], unique=False)
    op.create_table(
        "root_causes",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("cwe_id", sa.Integer(), nullable=True),
        sa.Column(
            "introduced_repository", sa.String(length=1000), server_default="", nullable=False
        ),
        sa.Column("introduced_ref", sa.String(length=200), server_default="", nullable=False),
        sa.Column("cause", sa.Text(), server_default="", nullable=False),
        sa.Column("found_how", sa.Text(), server_default="", nullable=False),
        sa.Column("found_earlier", sa.Text(), server_default="", nullable=False),
        sa.Column("detection_ideas", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cwe_id IS NULL OR cwe_id > 0", name=op.f("ck_root_causes_cwe_positive")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_root_causes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_root_causes")),
    )
    op.create_table(
        "structural_improvements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_structural_improvements_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_structural_improvements_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structural_improvements")),
    )
    op.create_index(
        op.f("ix_structural_improvements_case_id"),
        "structural_improvements",
        ["case_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_structural_improvements_owner_id"),
        "structural_improvements",
        ["owner_id"],
        unique=False,
    )
    op.create_table(
        "class_guards",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("cwe_id", sa.Integer(), nullable=False),
        sa.Column("hunt_id", sa.BigInteger(), nullable=False),
        sa.Column("checked_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cwe_id"],
            ["weakness_classes.cwe_id"],
            name=op.f("fk_class_guards_cwe_id_weakness_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hunt_id"], ["hunts.id"], name=op.f("fk_class_guards_hunt_id_hunts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_guards")),
        sa.UniqueConstraint("hunt_id", name=op.f("uq_class_guards_hunt_id")),
    )
    op.create_index(op.f("ix_class_guards_cwe_id"), "class_guards", ["cwe_id"], unique=False)
    op.create_table(
        "hunt_findings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("hunt_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("about_case_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), server_default="", nullable=False),
        sa.Column("rule_id", sa.String(length=300), server_default="", nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("state", sa.String(length=16), server_default="candidate", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_case_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('candidate', 'variant', 'duplicate', 'not_a_problem')",
            name=op.f("ck_hunt_findings_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["about_case_id"], ["cases.id"], name=op.f("fk_hunt_findings_about_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["decided_case_id"], ["cases.id"], name=op.f("fk_hunt_findings_decided_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["hunt_id"],
            ["hunts.id"],
            name=op.f("fk_hunt_findings_hunt_id_hunts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_hunt_findings_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hunt_findings")),
        sa.UniqueConstraint("hunt_id", "fingerprint", name=op.f("uq_hunt_findings_hunt_id")),
    )
    op.create_index(
        "ix_hunt_findings_hunt_state", "hunt_findings", ["hunt_id", "state", "id"], unique=False
    )
    op.create_table(
        "hunt_locations",
        sa.Column("hunt_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("findings", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'scanned', 'missing', 'failed')",
            name=op.f("ck_hunt_locations_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["hunt_id"],
            ["hunts.id"],
            name=op.f("fk_hunt_locations_hunt_id_hunts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_hunt_locations_service_id_services")
        ),
        sa.PrimaryKeyConstraint(
            "hunt_id", "service_id", "location", name=op.f("pk_hunt_locations")
        ),
    )
    op.create_table(
        "guard_matches",
        sa.Column("guard_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_guard_matches_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["guard_id"],
            ["class_guards.id"],
            name=op.f("fk_guard_matches_guard_id_class_guards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guard_id", "fingerprint", name=op.f("pk_guard_matches")),
    )


def downgrade() -> None:
    op.drop_table("guard_matches")
    op.drop_table("hunt_locations")
    op.drop_index("ix_hunt_findings_hunt_state", table_name="hunt_findings")
    op.drop_table("hunt_findings")
    op.drop_index(op.f("ix_class_guards_cwe_id"), table_name="class_guards")
    op.drop_table("class_guards")
    op.drop_index(op.f("ix_structural_improvements_owner_id"), table_name="structural_improvements")
    op.drop_index(op.f("ix_structural_improvements_case_id"), table_name="structural_improvements")
    op.drop_table("structural_improvements")
    op.drop_table("root_causes")
    op.drop_index(op.f("ix_hunts_case_id"), table_name="hunts")
    op.drop_table("hunts")
    op.drop_index(op.f("ix_case_links_parent_id"), table_name="case_links")
    op.drop_table("case_links")
    op.drop_column("services", "repositories")
    op.drop_table("weakness_classes")
    op.drop_index("ix_cases_cwe_id", table_name="cases")
