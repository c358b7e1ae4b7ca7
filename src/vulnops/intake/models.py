from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column
from vulnops.db.tracking import tracking_default
from vulnops.intake.states import CloseReason, ReportState, Severity, Source

# The reporter wrote after the team last did (a message, or the team's question): the team owes
# an answer. One text for the partial index and the queries, so that the planner matches them.
REPORTER_SPOKE_LAST = (
    "state <> 'closed' AND last_reporter_message_at IS NOT NULL AND "
    "(last_staff_message_at IS NULL OR last_reporter_message_at > last_staff_message_at)"
)

# The team asked and the reporter has not answered since: the reporter owes an answer.
TEAM_ASKED = (
    "state = 'needs_info' AND NOT (last_reporter_message_at IS NOT NULL AND "
    "(last_staff_message_at IS NULL OR last_reporter_message_at > last_staff_message_at))"
)


def _values(enum: type[ReportState] | type[Source] | type[CloseReason] | type[Severity]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(
        String(32), unique=True, server_default=tracking_default("VULN", "report_tracking_seq")
    )
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(
        String(16), default=ReportState.NEW.value, server_default=ReportState.NEW.value
    )
    close_reason: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(100))
    endpoint: Mapped[str | None] = mapped_column(String(500))
    reproduction: Mapped[str] = mapped_column(Text, default="", server_default="")
    impact: Mapped[str] = mapped_column(Text, default="", server_default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact: Mapped[str | None] = mapped_column(String(320))
    credit_name: Mapped[str | None] = mapped_column(String(200))
    exercise: Mapped[str | None] = mapped_column(String(200))
    scanner: Mapped[str | None] = mapped_column(String(100))
    rule_id: Mapped[str | None] = mapped_column(String(300))
    fingerprint: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(10))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The report this one duplicates (closed as a duplicate when merged into its case).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    received_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    last_staff_message_at: Mapped[datetime | None]
    last_reporter_message_at: Mapped[datetime | None]
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(tracking_id, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(service, '') || ' ' || "
            "coalesce(endpoint, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(description, '')), 'C')",
            persisted=True,
        ),
        deferred=True,
    )

    __table_args__ = (
        CheckConstraint(f"source IN ({_values(Source)})", name="known_source"),
        CheckConstraint(f"state IN ({_values(ReportState)})", name="known_state"),
        CheckConstraint(
            "(state = 'closed') = (close_reason IS NOT NULL)", name="closed_with_reason"
        ),
        CheckConstraint(
            f"close_reason IS NULL OR close_reason IN ({_values(CloseReason)})",
            name="known_close_reason",
        ),
        CheckConstraint(
            f"severity IS NULL OR severity IN ({_values(Severity)})", name="known_severity"
        ),
        Index("ix_reports_search", "search", postgresql_using="gin"),
        # Nearest titles within a service (KNN), for duplicate candidates; btree_gist lets the
        # service equality share the index with the trigram distance.
        Index(
            "ix_reports_service_title_trgm",
            "service",
            "title",
            postgresql_using="gist",
            postgresql_ops={"title": "gist_trgm_ops"},
        ),
        Index("ix_reports_service_endpoint", "service", "endpoint"),
        Index("ix_reports_state_received", "state", "received_at"),
        Index("ix_reports_reporter_received", "reporter_id", "received_at"),
        Index("ix_reports_reporter_updated", "reporter_id", "updated_at", "id"),
        # The work queues: reports whose reporter wrote last, and a reporter's questions to
        # answer.
        Index(
            "ix_reports_reporter_spoke_last",
            "last_reporter_message_at",
            postgresql_where=text(REPORTER_SPOKE_LAST),
        ),
        Index(
            "ix_reports_team_asked",
            "reporter_id",
            "updated_at",
            "id",
            postgresql_where=text(TEAM_ASKED),
        ),
        Index("ix_reports_received", "received_at"),
        Index(
            "uq_reports_scanner_fingerprint",
            "scanner",
            "fingerprint",
            unique=True,
            postgresql_where="fingerprint IS NOT NULL",
        ),
    )


class ReportMessage(Base):
    """The thread between the reporter and the responders; both sides see all of it."""

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_staff: Mapped[bool]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class StoredFileColumns:
    """The columns of a file kept under the data directory (never the web root), served only
    as a download: a report's attachment, a conversation's."""

    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Attachment(StoredFileColumns, Base):
    """A file attached to a report."""

    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)

    # The daily attachment quota sums one account's recent sizes from this index alone.
    __table_args__ = (
        Index(
            "ix_report_attachments_uploaded_by_created_at",
            "uploaded_by",
            "created_at",
            postgresql_include=["size"],
        ),
    )
