"""On-call tables: schedules, their layers and each layer's memberships over time (so a change
of members never resets the rotation), overrides, escalation policies with their steps and
targets, and which policy a service uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class OncallSchedule(Base):
    __tablename__ = "oncall_schedules"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class OncallLayer(Base):
    __tablename__ = "oncall_layers"
    __table_args__ = (UniqueConstraint("schedule_id", "name"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("oncall_schedules.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    # The first hand-off, wall-clock time in the schedule's zone (no offset on purpose).
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    rotation: Mapped[str] = mapped_column(String(500))
    # Its own zone (a region of a follow-the-sun schedule); None: the schedule's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}]
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )


class OncallMembership(Base):
    """The users a layer rotates from ``since`` (None: from its start), with the offset that
    kept the rotation's turn when the members changed."""

    __tablename__ = "oncall_memberships"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_layers.id", ondelete="CASCADE"), index=True
    )
    since: Mapped[datetime | None]
    offset: Mapped[int] = mapped_column(default=0, server_default="0")


class OncallMember(Base):
    __tablename__ = "oncall_members"

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_memberships.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class OncallOverride(Base):
    __tablename__ = "oncall_overrides"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"
    __table_args__ = (
        CheckConstraint("repeat BETWEEN 0 AND 10", name="bounded_repeat"),
        Index("one_default_policy", "is_default", unique=True, postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    repeat: Mapped[int] = mapped_column(default=0, server_default="0")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class EscalationStep(Base):
    __tablename__ = "escalation_steps"
    __table_args__ = (CheckConstraint("delay_minutes >= 0", name="delay_not_negative"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    delay_minutes: Mapped[int]


class EscalationTarget(Base):
    """A user, who is on call on a schedule, or everyone in one of its layers' rotation."""

    __tablename__ = "escalation_targets"
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NOT NULL AND schedule_id IS NULL AND layer IS NULL) OR "
            "(user_id IS NULL AND schedule_id IS NOT NULL)",
            name="one_kind",
        ),
    )

    step_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_steps.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE")
    )
    layer: Mapped[str | None] = mapped_column(String(100))


class ServicePolicy(Base):
    __tablename__ = "oncall_service_policies"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"))


class ContactRule(Base):
    """How one person is told of a page: a channel, after how many minutes of the step that
    named them, for pages of which urgency. A person without rules is emailed at once."""

    __tablename__ = "oncall_contact_rules"
    __table_args__ = (
        UniqueConstraint("user_id", "channel", "delay_minutes", "urgency"),
        CheckConstraint("channel IN ('email', 'chat')", name="known_channel"),
        CheckConstraint("urgency IN ('any', 'high', 'low')", name="known_urgency"),
        CheckConstraint("delay_minutes BETWEEN 0 AND 120", name="bounded_delay"),
        CheckConstraint("channel <> 'chat' OR address IS NOT NULL", name="chat_has_address"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    delay_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    urgency: Mapped[str] = mapped_column(String(10), default="any", server_default="any")
    # A chat rule's Slack-compatible incoming webhook (the person's own channel or DM).
    address: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = created_at_column()


class Page(Base):
    """Someone must look at something now. Open (``triggered``) until acknowledged, then
    resolved; the same open page is not raised twice (``dedup_key``). ``policy`` is the
    escalation policy as it was when the page was raised; ``next_step`` and ``next_loop`` say
    which escalation is due, so a job that runs twice does nothing the second time."""

    __tablename__ = "pages"
    __table_args__ = (
        CheckConstraint("status IN ('triggered', 'acknowledged', 'resolved')", name="known_status"),
        CheckConstraint("urgency IN ('high', 'low')", name="known_urgency"),
        Index(
            "one_open_page_per_key",
            "dedup_key",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("open_pages", "created_at", postgresql_where=text("status <> 'resolved'")),
        # "Paged once already" looks for any page of a key, resolved ones too.
        Index("pages_by_dedup_key", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(String(20_000), default="", server_default="")
    urgency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="triggered", server_default="triggered")
    source: Mapped[str] = mapped_column(String(50))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONB)
    next_step: Mapped[int] = mapped_column(default=0, server_default="0")
    next_loop: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(320))


class PageNotification(Base):
    """One person told of a page through one channel at one step of one loop — at most once
    (the unique key is what makes a retried escalation harmless)."""

    __tablename__ = "page_notifications"
    __table_args__ = (
        UniqueConstraint("page_id", "step", "loop", "user_id", "channel", "delay_minutes"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    step: Mapped[int]
    loop: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(30))
    # The person's rule that sent it, and after how long (0 and None: the default, email now).
    delay_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_contact_rules.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    # When its one-time acknowledgment link was used.
    link_used_at: Mapped[datetime | None]


class AlertSource(Base):
    """A detection system that may send alerts in (PagerDuty Events API v2 or Alertmanager's
    webhook), known by the hash of its integration key; ``window_*`` count its events for the
    rate limit."""

    __tablename__ = "alert_sources"
    __table_args__ = (CheckConstraint("kind IN ('pagerduty', 'alertmanager')", name="known_kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    service: Mapped[str | None] = mapped_column(String(100))
    window_start: Mapped[datetime | None]
    window_events: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
