"""Advisories, their versions and audience, deliveries and what customers answered."""

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
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column
from vulnops.intake.models import StoredFileColumns


class Advisory(Base):
    """The confidential advisory of one case; its content lives in versions."""

    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    # Sent in error and withdrawn (vulnops.notify.withdrawal): kept for its tenants, closed.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(320))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class AdvisoryVersion(Base):
    """One version: a draft until approved, then sent once. ``body`` is a Jinja2 template
    rendered for each recipient tenant (sandboxed, every name must exist)."""

    __tablename__ = "advisory_versions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    action_required: Mapped[bool]
    action_steps: Mapped[str] = mapped_column(Text, default="", server_default="")
    exposed_since: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("advisory_id", "number"),
        CheckConstraint("status IN ('draft', 'approved', 'sent')", name="known_status"),
        Index(
            "ix_advisory_versions_unsent",
            "created_at",
            postgresql_where=text("status IN ('draft', 'approved')"),
        ),
    )


class AdvisoryTranslation(Base):
    """A version's text in another language (a BCP 47 tag), drafted on the advisory's page and
    approved like the original (four eyes). A tenant whose language it is receives it; the
    others, and everyone while it waits for approval, the original."""

    __tablename__ = "advisory_translations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("advisory_versions.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    action_steps: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("version_id", "language"),
        CheckConstraint("status IN ('draft', 'approved')", name="known_status"),
    )


class AdvisoryRecipient(Base):
    """The audience: the case's affected tenants when the first version was sent (a snapshot,
    so that every later version goes to the same tenants)."""

    __tablename__ = "advisory_recipients"

    advisory_id: Mapped[int] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    resources: Mapped[int]

    __table_args__ = (Index("ix_advisory_recipients_tenant", "tenant_id"),)


class Delivery(Base):
    """One message of one version to one tenant over email or webhook (``reminder`` 0 is the
    first message, 1… the reminders). Workers lease due deliveries in batches. The portal has
    no deliveries: a version is in the portal of every recipient once it is sent."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("advisory_versions.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    channel: Mapped[str] = mapped_column(String(16))
    reminder: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = created_at_column()
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    # The translation it carries (a BCP 47 tag), or None for the original.
    language: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("version_id", "tenant_id", "channel", "reminder"),
        CheckConstraint("channel IN ('email', 'webhook')", name="known_channel"),
        CheckConstraint(
            "status IN ('pending', 'retrying', 'delivered', 'dead', 'undeliverable')",
            name="known_status",
        ),
        Index(
            "ix_deliveries_due",
            "channel",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'retrying')"),
        ),
        Index("ix_deliveries_version_status", "version_id", "status"),
        Index("ix_deliveries_dead", "id", postgresql_where=text("status = 'dead'")),
    )


class DeliveryEvent(Base):
    """Every change of a delivery's status after its creation, with the error if any."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor: Mapped[str] = mapped_column(String(320), default="worker", server_default="worker")
    at: Mapped[datetime] = created_at_column()


class Acknowledgment(Base):
    """A tenant's administrator confirmed reading a version."""

    __tablename__ = "advisory_acknowledgments"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_versions.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    acknowledged_by: Mapped[str] = mapped_column(String(320))
    acknowledged_at: Mapped[datetime] = created_at_column()


class Feedback(Base):
    """A tenant's answer to "how well did we tell you?" (the post-incident review reads it)."""

    __tablename__ = "advisory_feedback"

    advisory_id: Mapped[int] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    given_by: Mapped[str] = mapped_column(String(320))
    given_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)


class EmailDomainWindow(Base):
    """Emails sent to one recipient domain in one minute: the per-domain rate limit."""

    __tablename__ = "email_domain_windows"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    sent: Mapped[int]


class AdvisoryMessage(Base):
    """A message between a tenant's administrators and the response team about an advisory:
    a question, or what they see on their side, or the team's answer. Another tenant never
    sees it; the team sees it on the advisory's page."""

    __tablename__ = "advisory_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    from_staff: Mapped[bool]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_advisory_messages_thread", "advisory_id", "tenant_id", "id"),
        CheckConstraint("length(btrim(body)) > 0", name="not_empty"),
    )


class Conversation(Base):
    """One tenant's conversation about an advisory: its size, and whether a question waits for
    the team's answer and by when (the first message of the tenant since the team last
    answered). Written with each message, in its transaction."""

    __tablename__ = "advisory_conversations"

    advisory_id: Mapped[int] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    messages: Mapped[int] = mapped_column(default=0, server_default="0")
    last_message_at: Mapped[datetime]
    waiting_since: Mapped[datetime | None]
    answer_due: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_advisory_conversations_waiting",
            "answer_due",
            postgresql_where=text("waiting_since IS NOT NULL"),
        ),
        CheckConstraint("(waiting_since IS NULL) = (answer_due IS NULL)", name="waiting_has_due"),
    )


class AdvisoryAttachment(StoredFileColumns, Base):
    """A file attached to a message of a conversation: stored like a report's attachment,
    served only as a download, to the tenant and the team."""

    __tablename__ = "advisory_attachments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_messages.id", ondelete="CASCADE"), index=True
    )
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))

    # The quotas sum one account's recent sizes, and one conversation's, from these alone.
    __table_args__ = (
        Index(
            "ix_advisory_attachments_uploaded_by_created_at",
            "uploaded_by",
            "created_at",
            postgresql_include=["size"],
        ),
        Index(
            "ix_advisory_attachments_conversation",
            "advisory_id",
            "tenant_id",
            postgresql_include=["size"],
        ),
    )


class ResourceMark(Base):
    """A tenant's word on one of its affected resources: ``checked`` (done on their side) or
    ``needs_help``. The team sees each tenant's progress; an advisory asking them to act stops
    reminding a tenant whose every affected resource is checked."""

    __tablename__ = "advisory_resource_marks"

    advisory_id: Mapped[int] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    marked_by: Mapped[str] = mapped_column(String(320))
    marked_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("status IN ('checked', 'needs_help')", name="known_status"),)
