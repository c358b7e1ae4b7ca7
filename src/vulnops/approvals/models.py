"""Approvals: one row per request, decided once."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column
from vulnops.settings import FourEyesStep

STEPS = get_args(FourEyesStep)
STATUSES = ("pending", "approved", "rejected")


class Approval(Base):
    """A request that someone other than its ``authors`` approve ``subject`` (an advisory
    version, a public text, a disclosure, a rollout…). ``approver``: only this person may."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    summary: Mapped[str] = mapped_column(String(300))
    authors: Mapped[list[str]] = mapped_column(ARRAY(String(320)))
    approver: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime] = created_at_column()
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    # Decided by one of its authors (four eyes was off for this step then).
    single_person: Mapped[bool] = mapped_column(default=False, server_default="false")

    __table_args__ = (
        CheckConstraint("step IN (" + ", ".join(f"'{s}'" for s in STEPS) + ")", name="known_step"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="known_status"
        ),
        # At most one request of a subject waits at a time.
        Index(
            "uq_approvals_pending_subject",
            "subject",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_approvals_status_requested", "status", "requested_at"),
    )
