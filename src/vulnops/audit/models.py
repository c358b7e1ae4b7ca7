from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base


class AuditEvent(Base):
    """One change to one subject. ``hash`` covers this row and the previous row's hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(320))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_events_subject_seq", "subject", "seq"),
        Index("ix_audit_events_kind_seq", "kind", "seq"),
    )


class AuditPending(Base):
    """An event recorded in a transaction that has not committed yet. The constraint trigger
    ``audit_pending_chained`` (migration 0018), deferred to the commit, appends it to
    ``audit_events`` and removes it: between commits the table is empty."""

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(320))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class AuditChainHead(Base):
    """The last sequence number and hash: deleting the newest events shows as a mismatch here."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(Text)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
