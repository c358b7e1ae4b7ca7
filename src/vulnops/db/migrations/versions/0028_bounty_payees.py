"""bounty payees: how each researcher is paid (a payment-system reference, never a bank number).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 11:56:14.284935
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounty_payees",
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("payment_reference", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_form_received", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["users.id"],
            name=op.f("fk_bounty_payees_researcher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("researcher_id", name=op.f("pk_bounty_payees")),
    )


def downgrade() -> None:
    op.drop_table("bounty_payees")
