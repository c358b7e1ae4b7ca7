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
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.cases.states import CaseState, Milestone
from vulnops.db.base import Base, created_at_column
from vulnops.db.tracking import tracking_default

STATE_VALUES = ", ".join(f"'{state.value}'" for state in CaseState)
MILESTONE_VALUES = ", ".join(f"'{milestone.value}'" for milestone in Milestone)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(
        String(32), unique=True, server_default=tracking_default("CASE", "case_tracking_seq")
    )
    title: Mapped[str] = mapped_column(String(300))
    # The internal summary, for responders; the public text is written and approved apart.
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Derived from the milestones by ``states.derive_state`` and written only by
    # ``milestones.apply`` (stored so that lists filter and count by it with an index).
    state: Mapped[str] = mapped_column(
        String(16), default=CaseState.NEW.value, server_default=CaseState.NEW.value
    )
    services: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default="{}"
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    cvss31_vector: Mapped[str | None] = mapped_column(String(200))
    cvss31_score: Mapped[float | None]
    cvss40_vector: Mapped[str | None] = mapped_column(String(300))
    cvss40_score: Mapped[float | None]
    impact: Mapped[str | None] = mapped_column(String(40))
    data_sensitivity: Mapped[str | None] = mapped_column(String(40))
    rating: Mapped[str | None] = mapped_column(String(16))
    exploitation: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    automatable: Mapped[bool | None]
    technical_impact: Mapped[str | None] = mapped_column(String(16))
    mission_wellbeing: Mapped[str | None] = mapped_column(String(16))
    ssvc_decision: Mapped[str | None] = mapped_column(String(16))
    cwe_id: Mapped[int | None]
    publicly_disclosed: Mapped[bool] = mapped_column(default=False, server_default="false")
    customer_action_required: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Need to know: only the team (owner, responder, case_members) sees a restricted case.
    # ``restriction_chosen``: a person decided, so a critical rating no longer restricts it.
    restricted: Mapped[bool] = mapped_column(default=False, server_default="false", index=True)
    restriction_chosen: Mapped[bool] = mapped_column(default=False, server_default="false")

    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    opened_at: Mapped[datetime] = created_at_column()
    # The deadline milestones' times, copied from case_milestones (the generated next_due and
    # the overdue filter read them).
    acknowledged_at: Mapped[datetime | None]
    triaged_at: Mapped[datetime | None]
    mitigated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    acknowledge_due: Mapped[datetime | None]
    triage_due: Mapped[datetime | None]
    mitigate_due: Mapped[datetime | None]
    # The earliest deadline not yet met: "overdue" is next_due < now, one indexed comparison.
    next_due: Mapped[datetime | None] = mapped_column(
        Computed(
            "CASE WHEN state IN ('closed', 'rejected') THEN NULL ELSE least("
            "CASE WHEN acknowledged_at IS NULL THEN acknowledge_due END, "
            "CASE WHEN triaged_at IS NULL THEN triage_due END, "
            "CASE WHEN mitigated_at IS NULL THEN mitigate_due END) END",
            persisted=True,
        )
    )
    breaches_recorded: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), default=list, server_default="{}"
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(tracking_id, '')), 'A') || "
            "setweight(to_tsvector('simple', words_of(services)), 'B') || "
            "setweight(to_tsvector('english', coalesce(summary, '')), 'C')",
            persisted=True,
        ),
        deferred=True,
    )

    __table_args__ = (
        CheckConstraint(f"state IN ({STATE_VALUES})", name="known_state"),
        CheckConstraint(
            "rating IS NULL OR rating IN ('critical', 'important', 'moderate', 'low')",
            name="known_rating",
        ),
        CheckConstraint("cwe_id IS NULL OR cwe_id > 0", name="cwe_positive"),
        Index("ix_cases_search", "search", postgresql_using="gin"),
        Index("ix_cases_services", "services", postgresql_using="gin"),
        Index(
            "ix_cases_title_trgm",
            "title",
            postgresql_using="gist",
            postgresql_ops={"title": "gist_trgm_ops"},
        ),
        Index("ix_cases_state_opened", "state", "opened_at"),
        Index("ix_cases_next_due", "next_due"),
        Index("ix_cases_rating_opened", "rating", "opened_at"),
        Index("ix_cases_opened", "opened_at"),
        Index("ix_cases_cwe_id", "cwe_id"),
    )


class CaseMilestone(Base):
    """One fact of a case, recorded once by the code (or the person) that knows it.

    ``source`` names what made it true (``rollout:12``, ``advisory:3``, ``hand``); a fact can be
    cleared only by what it stands on (a rollback clears the rollout's mitigation, not a
    person's). ``skipped``: the case went past this milestone without it (a fix deployed before
    anyone triaged the case)."""

    __tablename__ = "case_milestones"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    milestone: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(100), default="hand", server_default="hand")
    reason: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(default=False, server_default="false")
    recorded_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(f"milestone IN ({MILESTONE_VALUES})", name="known_milestone"),
        Index("ix_case_milestones_milestone_at", "milestone", "at"),
    )


class CaseMember(Base):
    """A member of a case's team besides its owner and responder. ``kind`` ``break_glass``: an
    administrator who opened the restricted case with a reason (the owner was emailed)."""

    __tablename__ = "case_members"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    reason: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("kind IN ('member', 'break_glass')", name="known_kind"),)
