from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column
from vulnops.rollout.decide import ACTIVE, RolloutStatus, StageStatus, UnitStatus


def _values(enum: type[RolloutStatus] | type[StageStatus] | type[UnitStatus]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


ACTIVE_VALUES = ", ".join(f"'{status.value}'" for status in sorted(ACTIVE))


class Rollout(Base):
    """One fix deployed to every unit of its service, stage by stage."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fix_id: Mapped[int] = mapped_column(ForeignKey("fixes.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    target_version: Mapped[str] = mapped_column(String(100))
    policy_name: Mapped[str] = mapped_column(String(100))
    policy: Mapped[dict[str, Any]] = mapped_column(JSONB)  # as it was when the rollout started
    backend: Mapped[str] = mapped_column(String(100))
    health_source: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    started_by: Mapped[str] = mapped_column(String(320))
    approver: Mapped[str | None] = mapped_column(String(320))
    approved_at: Mapped[datetime | None]
    evidence_overridden: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"status IN ({_values(RolloutStatus)})", name="known_status"),
        # One active rollout per service at a time.
        Index(
            "uq_rollouts_active_service",
            "service_id",
            unique=True,
            postgresql_where=text(f"status IN ({ACTIVE_VALUES})"),
        ),
    )


class RolloutStage(Base):
    __tablename__ = "rollout_stages"

    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    traffic: Mapped[float]
    status: Mapped[str] = mapped_column(String(16))
    begun_at: Mapped[datetime | None]
    baking_since: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(16))
    verdict_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    holding_since: Mapped[datetime | None]
    alerted: Mapped[bool] = mapped_column(default=False, server_default="false")
    # A person gave a holding stage more time: its hold clock counts from then.
    extended_until: Mapped[datetime | None]
    # The policy's max_hold ran out (paged again, or halted) — once, until extended.
    max_hold_reached: Mapped[bool] = mapped_column(default=False, server_default="false")
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # gates.GateState
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the latest statistics
    # The estimates after each look, for the page's chart (rollout/chart.py).
    history: Mapped[list[list[float | None]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    observed_until: Mapped[datetime | None]

    __table_args__ = (CheckConstraint(f"status IN ({_values(StageStatus)})", name="known_status"),)


class RolloutUnit(Base):
    __tablename__ = "rollout_units"

    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("deployment_units.id"), primary_key=True)
    stage: Mapped[int]
    from_version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    deployed_at: Mapped[datetime | None]
    rolled_back_at: Mapped[datetime | None]
    # Left out of the gate's evidence by a person (too noisy, or too little traffic to judge);
    # its crashes still count.
    excluded_at: Mapped[datetime | None]
    excluded_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (
        CheckConstraint(f"status IN ({_values(UnitStatus)})", name="known_status"),
        Index("ix_rollout_units_stage", "rollout_id", "stage"),
        # A rollout's first deployed unit in one probe (the program metrics ask it of every
        # rollout).
        Index("ix_rollout_units_deployed", "rollout_id", "deployed_at"),
    )
