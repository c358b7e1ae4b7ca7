from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column

SUITES = ("compatibility", "data_integrity")


class Fix(Base):
    """A fix for a case: a target version of one service, ready to roll out once its test
    evidence passed (or an administrator overrode that, with a recorded reason)."""

    __tablename__ = "fixes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    version: Mapped[str] = mapped_column(String(100))
    artifact: Mapped[str] = mapped_column(String(500), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(320))
    override_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("case_id", "service_id", "version"),
        Index("ix_fixes_created_by", "created_by", "id"),
    )


class Evidence(Base):
    """One uploaded JUnit report of one suite for a fix; the newest of each suite counts."""

    __tablename__ = "fix_evidence"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fix_id: Mapped[int] = mapped_column(ForeignKey("fixes.id", ondelete="CASCADE"))
    suite: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    tests: Mapped[int]
    failures: Mapped[int]
    errors: Mapped[int]
    skipped: Mapped[int]
    passed: Mapped[bool]
    failed_cases: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    uploaded_by: Mapped[str] = mapped_column(String(320))
    uploaded_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "suite IN (" + ", ".join(f"'{s}'" for s in SUITES) + ")", name="known_suite"
        ),
        Index("ix_fix_evidence_fix_suite", "fix_id", "suite", "id"),
    )
