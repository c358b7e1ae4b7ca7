from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class InboxMessage(Base):
    """One email the catcher took, or one webhook call the receiver answered."""

    __tablename__ = "inbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(Text, default="", server_default="")
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="known_channel"),
        Index("ix_inbox_messages_channel_received", "channel", "received_at"),
    )
