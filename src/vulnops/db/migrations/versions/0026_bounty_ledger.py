"""the bounty's payout ledger: double-entry, append-only.

Each line of a transaction is a row; a transaction's lines share its idempotency key and sum to
zero in their currency. Rows cannot be changed, removed or truncated away (triggers, as for the
event log): a correction is a new transaction.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 11:46:44.613747
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE FUNCTION bounty_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bounty_ledger_entries is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER bounty_ledger_append_only BEFORE UPDATE OR DELETE ON bounty_ledger_entries
    FOR EACH ROW EXECUTE FUNCTION bounty_ledger_immutable();
CREATE TRIGGER bounty_ledger_no_truncate BEFORE TRUNCATE ON bounty_ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION bounty_ledger_immutable();
"""


def upgrade() -> None:
    op.create_table(
        "bounty_ledger_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("transaction_key", sa.String(length=200), nullable=False),
        sa.Column("line", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("researcher_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refers_to", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=500), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_bounty_ledger_entries_currency_code")
        ),
        sa.CheckConstraint(
            "kind IN ('award_granted', 'bonus', 'adjustment', 'payout_requested', 'paid',"
            " 'failed', 'reversed')",
            name=op.f("ck_bounty_ledger_entries_known_kind"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_bounty_ledger_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["users.id"],
            name=op.f("fk_bounty_ledger_entries_researcher_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_ledger_entries")),
        sa.UniqueConstraint(
            "transaction_key", "line", name=op.f("uq_bounty_ledger_entries_transaction_key")
        ),
    )
    op.create_index(
        "ix_bounty_ledger_entries_account", "bounty_ledger_entries", ["account", "currency"]
    )
    op.create_index(
        "ix_bounty_ledger_entries_researcher",
        "bounty_ledger_entries",
        ["researcher_id", "currency"],
    )
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("bounty_ledger_entries")
    op.execute("DROP FUNCTION bounty_ledger_immutable()")
