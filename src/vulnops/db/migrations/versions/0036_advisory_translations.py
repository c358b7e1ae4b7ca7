"""An advisory version's translations, each approved like the original, and the language each
delivery carried.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisory_translations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("action_steps", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("approved_by", sa.String(length=320), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'approved')", name=op.f("ck_advisory_translations_known_status")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["advisory_versions.id"],
            name=op.f("fk_advisory_translations_version_id_advisory_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_translations")),
        sa.UniqueConstraint(
            "version_id", "language", name=op.f("uq_advisory_translations_version_id")
        ),
    )
    op.add_column("deliveries", sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "language")
    op.drop_table("advisory_translations")
