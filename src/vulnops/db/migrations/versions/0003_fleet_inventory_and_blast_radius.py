"""fleet inventory and blast radius

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:40:53.609654
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("geography", sa.String(length=100), server_default="", nullable=False),
        sa.Column("pair_id", sa.BigInteger(), nullable=True),
        sa.Column("canary", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("traffic_weight", sa.Double(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "pair_id IS NULL OR pair_id <> id", name=op.f("ck_regions_not_own_pair")
        ),
        sa.CheckConstraint("traffic_weight >= 0", name=op.f("ck_regions_weight_not_negative")),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["regions.id"], name=op.f("fk_regions_pair_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("key", name=op.f("uq_regions_key")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_team", sa.String(length=200), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("key", name=op.f("uq_services_key")),
    )
    op.create_table(
        "deployment_units",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("region_id", sa.BigInteger(), nullable=False),
        sa.Column("scale_unit", sa.String(length=100), nullable=False),
        sa.Column("current_version", sa.String(length=100), nullable=False),
        sa.Column("traffic_share", sa.Double(), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=200)), server_default="{}", nullable=False
        ),
        sa.CheckConstraint(
            "traffic_share > 0 AND traffic_share <= 1",
            name=op.f("ck_deployment_units_share_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_deployment_units_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_deployment_units_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_units")),
        sa.UniqueConstraint(
            "service_id", "region_id", "scale_unit", name=op.f("uq_deployment_units_service_id")
        ),
    )
    op.create_index(
        op.f("ix_deployment_units_region_id"), "deployment_units", ["region_id"], unique=False
    )
    op.create_index(
        "ix_deployment_units_service_version",
        "deployment_units",
        ["service_id", "current_version"],
        unique=False,
    )
    op.create_table(
        "service_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("sbom", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("components_without_purl", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_service_versions_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint("service_id", "version", name=op.f("uq_service_versions_service_id")),
    )
    op.create_table(
        "tenant_contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_tenant_contacts_known_channel")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_contacts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_contacts")),
        sa.UniqueConstraint(
            "tenant_id", "channel", "address", name=op.f("uq_tenant_contacts_tenant_id")
        ),
    )
    op.create_table(
        "components",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_version_id", sa.BigInteger(), nullable=False),
        sa.Column("purl", sa.String(length=2000), nullable=False),
        sa.Column("purl_type", sa.String(length=50), nullable=False),
        sa.Column("namespace", sa.String(length=500), server_default="", nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["service_version_id"],
            ["service_versions.id"],
            name=op.f("fk_components_service_version_id_service_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
    )
    op.create_index(
        "ix_components_package",
        "components",
        ["purl_type", "namespace", "name", "version"],
        unique=False,
    )
    op.create_index(
        op.f("ix_components_service_version_id"), "components", ["service_version_id"], unique=False
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=200)), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_resources_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["deployment_units.id"], name=op.f("fk_resources_unit_id_deployment_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("tenant_id", "external_id", name=op.f("uq_resources_tenant_id")),
    )
    op.create_index(op.f("ix_resources_unit_id"), "resources", ["unit_id"], unique=False)
    op.create_table(
        "blast_radii",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("tenants", sa.Integer(), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("by_region", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("by_service", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("service_versions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_by", sa.String(length=320), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_blast_radii_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_blast_radii")),
    )
    op.create_table(
        "blast_tenants",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["blast_radii.case_id"],
            name=op.f("fk_blast_tenants_case_id_blast_radii"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_blast_tenants_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("case_id", "tenant_id", name=op.f("pk_blast_tenants")),
    )
    op.create_table(
        "blast_units",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["blast_radii.case_id"],
            name=op.f("fk_blast_units_case_id_blast_radii"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["deployment_units.id"],
            name=op.f("fk_blast_units_unit_id_deployment_units"),
        ),
        sa.PrimaryKeyConstraint("case_id", "unit_id", name=op.f("pk_blast_units")),
    )


def downgrade() -> None:
    op.drop_table("blast_units")
    op.drop_table("blast_tenants")
    op.drop_table("blast_radii")
    op.drop_index(op.f("ix_resources_unit_id"), table_name="resources")
    op.drop_table("resources")
    op.drop_index(op.f("ix_components_service_version_id"), table_name="components")
    op.drop_index("ix_components_package", table_name="components")
    op.drop_table("components")
    op.drop_table("tenant_contacts")
    op.drop_table("service_versions")
    op.drop_index("ix_deployment_units_service_version", table_name="deployment_units")
    op.drop_index(op.f("ix_deployment_units_region_id"), table_name="deployment_units")
    op.drop_table("deployment_units")
    op.drop_table("services")
    op.drop_table("regions")
