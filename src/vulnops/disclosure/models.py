"""What was decided and done to disclose a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class Disclosure(Base):
    """A case's CVE id (reserved, then published to CVE Services), a person's "no CVE" with its
    reason, and the public disclosure: approved (``disclosed_at``) for a date (``public_from``,
    the end of the embargo)."""

    __tablename__ = "disclosures"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    cve_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    cve_reserved_at: Mapped[datetime | None]
    cve_published_at: Mapped[datetime | None]
    no_cve_reason: Mapped[str | None] = mapped_column(Text)
    public_from: Mapped[datetime | None]
    disclosed_at: Mapped[datetime | None]
    disclosed_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = created_at_column()
