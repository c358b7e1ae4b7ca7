"""email confirmation: a self-registered account waits for its owner to follow a link sent to
the address (so registration can answer the same for a new and a taken address). Existing
accounts count as confirmed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("confirmation_hash", sa.String(length=64)))
    op.add_column("users", sa.Column("confirmation_sent_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.create_index("ix_users_confirmation_hash", "users", ["confirmation_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_confirmation_hash", table_name="users")
    op.drop_column("users", "confirmation_sent_at")
    op.drop_column("users", "confirmation_hash")
    op.drop_column("users", "email_confirmed_at")
