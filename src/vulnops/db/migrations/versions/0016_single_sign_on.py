"""single sign-on: a user may be linked to an OpenID Connect provider's account.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("sso_subject", sa.String(length=400)))
    op.create_unique_constraint(op.f("uq_users_sso_subject"), "users", ["sso_subject"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_users_sso_subject"), "users", type_="unique")
    op.drop_column("users", "sso_subject")
