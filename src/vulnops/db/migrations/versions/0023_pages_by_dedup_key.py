"""pages by dedup key

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 06:35:15.082884
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("pages_by_dedup_key", "pages", ["dedup_key"], unique=False)


def downgrade() -> None:
    op.drop_index("pages_by_dedup_key", table_name="pages")
