"""Bounty tables: the payout ledger, double-entry and append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class BountyLedgerEntry(Base):
    """One line of a ledger transaction. A transaction is the lines of one ``transaction_key``
    (its idempotency key): they sum to zero in their currency. Rows are never changed or removed
    (a trigger refuses it); a correction is a new transaction."""

    __tablename__ = "bounty_ledger_entries"
    __table_args__ = (
        UniqueConstraint("transaction_key", "line"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint(
            "kind IN ('award_granted', 'bonus', 'adjustment', 'payout_requested', 'paid',"
            " 'failed', 'reversed')",
            name="known_kind",
        ),
        Index("ix_bounty_ledger_entries_account", "account", "currency"),
        Index("ix_bounty_ledger_entries_researcher", "researcher_id", "currency"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    transaction_key: Mapped[str] = mapped_column(String(200))
    line: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(30))
    # programme:KEY, researcher:ID, in_flight:ID or paid_out
    account: Mapped[str] = mapped_column(String(200))
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    program: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units; + into the account
    currency: Mapped[str] = mapped_column(String(3))
    # The payout a settlement or reversal refers to (its transaction key), if any.
    refers_to: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(500), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
