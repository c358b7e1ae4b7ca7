"""need-to-know cases: a case may be restricted to its team (owner, responder and named
members); an administrator outside it may break the glass with a reason.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("restricted", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "cases",
        sa.Column("restriction_chosen", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_index("ix_cases_restricted", "cases", ["restricted"])
    op.create_table(
        "case_members",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('member', 'break_glass')", name=op.f("ck_case_members_known_kind")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_members_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_case_members")),
    )
    op.create_index("ix_case_members_user_id", "case_members", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_case_members_user_id", table_name="case_members")
    op.drop_table("case_members")
    op.drop_index("ix_cases_restricted", table_name="cases")
    op.drop_column("cases", "restriction_chosen")
    op.drop_column("cases", "restricted")
