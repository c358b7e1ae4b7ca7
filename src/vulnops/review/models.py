"""The tables of reviews: one review per case, its action items and its responders' feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column

STATES = ("draft", "in_review", "published")


class Review(Base):
    """A case's post-incident review. ``record`` is what was generated from the record when it
    was published (a published review does not change under its readers); until then the
    page generates it afresh."""

    __tablename__ = "reviews"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    impact: Mapped[str] = mapped_column(Text, default="", server_default="")
    went_well: Mapped[str] = mapped_column(Text, default="", server_default="")
    went_wrong: Mapped[str] = mapped_column(Text, default="", server_default="")
    lucky: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Everyone who wrote a section: none of them approves the publication (four eyes).
    authors: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    started_by: Mapped[str] = mapped_column(String(320))
    started_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    submitted_by: Mapped[str | None] = mapped_column(String(320))
    submitted_at: Mapped[datetime | None]
    rejected_comment: Mapped[str | None] = mapped_column(Text)
    published_by: Mapped[str | None] = mapped_column(String(320))
    published_at: Mapped[datetime | None]
    record: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tenant_hours: Mapped[float | None]

    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name="known_state"
        ),
        Index("ix_reviews_state_published", "state", "published_at"),
    )


class ActionItem(Base):
    """Something the review decided to change, with an owner and a due date, tracked until
    done (overdue ones are on the owner's work queue and on the program dashboard)."""

    __tablename__ = "review_action_items"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("reviews.case_id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    tracker: Mapped[str] = mapped_column(String(500), default="", server_default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due: Mapped[date]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(320))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # The owner's queue and the dashboard read the open ones by due date.
        Index(
            "ix_review_action_items_open",
            "owner_id",
            "due",
            postgresql_where=text("done_at IS NULL"),
        ),
    )


class ResponderFeedback(Base):
    """A participant asked (by email) how the response went: a 5-point rating and a comment."""

    __tablename__ = "review_responder_feedback"

    case_id: Mapped[int] = mapped_column(ForeignKey("reviews.case_id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    asked_at: Mapped[datetime] = created_at_column()
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    given_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )


class CasePoints(Base):
    """The points of one case (:mod:`vulnops.review.measures`) and its rollout counts, as the
    program metrics read them: a read model derived from the facts by
    :mod:`vulnops.review.case_points`, never written by hand. Every writer of those facts
    marks the case stale (triggers of migration 0033), and the next reader derives it again."""

    __tablename__ = "case_points"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    reported: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged: Mapped[datetime | None]
    triaged: Mapped[datetime | None]
    fix_ready: Mapped[datetime | None]
    first_unit: Mapped[datetime | None]
    mitigated: Mapped[datetime | None]
    customers_notified: Mapped[datetime | None]
    public: Mapped[datetime | None]
    last_variant_closed: Mapped[datetime | None]
    ended: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(String(16))
    rollouts: Mapped[int] = mapped_column(default=0, server_default="0")
    rollouts_finished: Mapped[int] = mapped_column(default=0, server_default="0")
    rollouts_rolled_back: Mapped[int] = mapped_column(default=0, server_default="0")
    rollouts_halted: Mapped[int] = mapped_column(default=0, server_default="0")


class StalePoints(Base):
    """A case whose points must be derived again: appended by the facts' triggers (never
    updated, so no writer waits on another) and drained by the next refresh."""

    __tablename__ = "case_points_stale"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger)
