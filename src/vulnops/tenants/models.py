from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column

# SQL that makes a secret (not a secret itself).
WEBHOOK_SECRET_SQL = (
    "'whsec_' || encode(sha256(convert_to(gen_random_uuid()::text || clock_timestamp()::text"  # noqa: S105
    " || gen_random_uuid()::text, 'UTF8')), 'base64')"
)


class Tenant(Base):
    """A customer organisation. Its administrators sign in with the ``customer`` role."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The Standard Webhooks signing secret of the tenant's endpoint: 32 random bytes, made by
    # the database for every tenant (bulk imports included), rotated by the tenant.
    webhook_secret: Mapped[str] = mapped_column(
        String(100), server_default=text(WEBHOOK_SECRET_SQL)
    )
    # What its advisories, emails and portal pages are to be in, and the clock of their dates
    # (:mod:`vulnops.tenants.preferences` checks both).
    language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = created_at_column()


class TenantContact(Base):
    """Where a tenant hears from us: security email addresses and a webhook endpoint."""

    __tablename__ = "tenant_contacts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "address"),
        CheckConstraint("channel IN ('email', 'webhook')", name="known_channel"),
    )
