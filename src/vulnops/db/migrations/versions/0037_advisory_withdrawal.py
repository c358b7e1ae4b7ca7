"""A sent advisory can be withdrawn (sent in error): when, by whom and why.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-08 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advisories", sa.Column("withdrawn_at", sa.DateTime(timezone=True)))
    op.add_column("advisories", sa.Column("withdrawn_by", sa.String(length=320)))
    op.add_column("advisories", sa.Column("withdrawn_reason", sa.Text()))


def downgrade() -> None:
    op.drop_column("advisories", "withdrawn_reason")
    op.drop_column("advisories", "withdrawn_by")
    op.drop_column("advisories", "withdrawn_at")
