"""A tenant's preferred language (BCP 47) and time zone (IANA): English and UTC until it
says otherwise.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-08 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("language", sa.String(length=35), server_default="en", nullable=False)
    )
    op.add_column(
        "tenants",
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("tenants", "time_zone")
    op.drop_column("tenants", "language")
