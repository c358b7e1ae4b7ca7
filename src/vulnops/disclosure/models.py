"""What was decided and done to disclose a case, and the public text it is disclosed with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class Disclosure(Base):
    """A case's CVE id (reserved, then published to CVE Services), a person's "no CVE" with its
    reason, and the public disclosure: asked for (``requested_*``), approved by a second person
    (``disclosed_at``) for a date (``public_from``, the end of the embargo)."""

    __tablename__ = "disclosures"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    cve_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    cve_reserved_at: Mapped[datetime | None]
    cve_published_at: Mapped[datetime | None]
    no_cve_reason: Mapped[str | None] = mapped_column(Text)
    # Disclosed although a CVE was needed: the person's reason, kept.
    without_cve_reason: Mapped[str | None] = mapped_column(Text)
    requested_public_from: Mapped[datetime | None]
    requested_by: Mapped[str | None] = mapped_column(String(320))
    public_from: Mapped[datetime | None]
    disclosed_at: Mapped[datetime | None]
    disclosed_by: Mapped[str | None] = mapped_column(String(320))
    # Publish the CVE when the embargo ends (the scheduled job does, as this person).
    cve_publish_requested_by: Mapped[str | None] = mapped_column(String(320))
    cve_publish_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = created_at_column()


class PublicText(Base):
    """What the public reads about a case — written for the public, apart from the internal
    summary, and approved before any public page, CVE record or CSAF document uses it. The
    newest approved version is the one in use; a draft waits beside it."""

    __tablename__ = "public_texts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text, default="", server_default="")
    customer_action: Mapped[str] = mapped_column(Text, default="", server_default="")
    acknowledgments: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        CheckConstraint("status IN ('draft', 'approved')", name="known_status"),
    )
