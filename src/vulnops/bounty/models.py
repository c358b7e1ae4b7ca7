"""Bounty tables: programmes with their award tables, awards, and the payout ledger (double-entry
and append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
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


class BountyProgram(Base):
    """A programme: its scope as data, its rules, and the award table in force (the whole
    document: a new version of the table replaces it here and is snapshotted by later awards)."""

    __tablename__ = "bounty_programs"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[str] = mapped_column(Text, default="", server_default="")
    # {"services": [...] (empty: every service), "out_of_scope": [...]}
    scope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    award_table: Mapped[dict[str, Any]] = mapped_column(JSONB)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class BountyAward(Base):
    """The award of one report: what the table proposed and why, what a person made of it (and
    why), and where it stands. The table as it was is kept with it."""

    __tablename__ = "bounty_awards"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'pending_approval', 'approved', 'rejected')",
            name="known_status",
        ),
        CheckConstraint("amount >= 0 AND proposed_amount >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    program: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    proposed_amount: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units, after any adjustment
    currency: Mapped[str] = mapped_column(String(3))
    impact: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(100))
    quality: Mapped[str] = mapped_column(String(100))
    scenarios: Mapped[list[str]] = mapped_column(JSONB)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    adjustment_reason: Mapped[str | None] = mapped_column(Text)
    split: Mapped[dict[str, int]] = mapped_column(JSONB)  # researcher id (text) -> minor units
    table_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    proposed_by: Mapped[str] = mapped_column(String(320))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class BountyPayee(Base):
    """How a researcher is paid: a reference to their record in the payment system (never a
    bank or card number), their country, and whether their tax form was received."""

    __tablename__ = "bounty_payees"

    researcher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    payment_reference: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    tax_form_received: Mapped[bool] = mapped_column(default=False, server_default="false")
    updated_at: Mapped[datetime] = created_at_column()


class BountyDispute(Base):
    """A researcher disputing their report's award or its closure: their reason, the deadline
    by which staff must answer, and the answer."""

    __tablename__ = "bounty_disputes"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered')", name="known_status"),
        Index(
            "ix_bounty_disputes_open_due",
            "due_at",
            postgresql_where="status = 'open'",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    about: Mapped[str] = mapped_column(String(20))  # the award, or the closure
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(320))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class BountyRetest(Base):
    """A retest of a report's fix that the team asked its researcher for, paid by the
    programme's rule (its table's ``retest`` amount, snapshotted when asked) once done."""

    __tablename__ = "bounty_retests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'fixed', 'not_fixed', 'declined')",
            name="known_status",
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index(
            "uq_bounty_retests_open",
            "report_id",
            unique=True,
            postgresql_where="status = 'requested'",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    program: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="requested")
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units, what it pays when done
    currency: Mapped[str] = mapped_column(String(3))
    ask: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BountyReputationPoint(Base):
    """Points an event of the log earned a researcher (:mod:`vulnops.bounty.reputation`):
    once per (researcher, report, reason), so scoring again, or a report reopened and closed
    again, changes nothing."""

    __tablename__ = "bounty_reputation_points"

    researcher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(SmallInteger)
    event_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BountyReputationTotal(Base):
    """A researcher's points in one period (``2026``, ``2026-Q4``, or ``all``): the
    leaderboards read the top of its index."""

    __tablename__ = "bounty_reputation_totals"
    __table_args__ = (
        Index("ix_bounty_reputation_totals_rank", "period", "points", "researcher_id"),
    )

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    researcher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(BigInteger)


class BountyReputationCursor(Base):
    """How far the event log has been scored: one row."""

    __tablename__ = "bounty_reputation_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    seq: Mapped[int] = mapped_column(BigInteger)


class BountyHallOfFame(Base):
    """A researcher's consent to be named in public, and the name they chose."""

    __tablename__ = "bounty_hall_of_fame"

    researcher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    public_name: Mapped[str] = mapped_column(String(100))
    listed: Mapped[bool] = mapped_column(default=True, server_default="true")
    updated_at: Mapped[datetime] = created_at_column()
