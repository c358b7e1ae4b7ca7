"""every API token expires: a token created without an expiry gets one 90 days after it was
made (already past for old ones: they stop working, and their owners create new ones).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE api_tokens SET expires_at = created_at + interval '90 days' "
        "WHERE expires_at IS NULL"
    )
    op.alter_column(
        "api_tokens", "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
    )


def downgrade() -> None:
    op.alter_column(
        "api_tokens", "expires_at", existing_type=sa.DateTime(timezone=True), nullable=True
    )
