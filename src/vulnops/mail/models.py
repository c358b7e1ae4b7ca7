from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class OutboundEmail(Base):
    """One email to send. The row makes a retried job send it once (unless the worker dies
    between the SMTP server's answer and the commit)."""

    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(100))
    about: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # What still waits to be sent (the administrator's health view counts the old ones).
        Index(
            "ix_outbound_emails_queued", "created_at", postgresql_where=text("status = 'queued'")
        ),
    )
