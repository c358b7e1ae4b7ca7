"""stage holds

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 06:58:05.016085
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "rollout_stages", sa.Column("extended_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "rollout_stages",
        sa.Column("max_hold_reached", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "rollout_units", sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "rollout_units", sa.Column("excluded_reason", sa.Text(), server_default="", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("rollout_units", "excluded_reason")
    op.drop_column("rollout_units", "excluded_at")
    op.drop_column("rollout_stages", "max_hold_reached")
    op.drop_column("rollout_stages", "extended_until")
