from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Input
from vulnops.durations import format_duration

if TYPE_CHECKING:
    from vulnops.rollout.service import PlanPreview


class PlanIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fix_id: int
    policy: str = Field(default="standard", max_length=100)


class StartIn(PlanIn):
    approver: str | None = Field(
        default=None, max_length=320, description="Email of who must approve (expedited)."
    )
    backend: str | None = Field(default=None, max_length=100)
    health_source: str | None = Field(default=None, max_length=100)


class ReasonIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2000)


class PlannedStage(BaseModel):
    index: int
    kind: str
    regions: list[str]
    units: int
    traffic: float = Field(description="Share of the service's traffic.")
    cumulative_traffic: float
    bake: str
    gate: str


class PlanOut(BaseModel):
    fix_id: int
    service: str
    target_version: str
    policy: str
    approval_required: bool
    stages: list[PlannedStage]
    already_on_target: int

    @classmethod
    def of(cls, shown: PlanPreview) -> PlanOut:
        """The plan a rollout would follow, as the API and the command line show it."""
        cumulative = 0.0
        stages = []
        for stage in shown.plan.stages:
            cumulative += stage.traffic
            rules = shown.policy.stage_rules(stage.kind.value)
            stages.append(
                PlannedStage(
                    index=stage.index,
                    kind=stage.kind.value,
                    regions=list(stage.regions),
                    units=len(stage.unit_ids),
                    traffic=stage.traffic,
                    cumulative_traffic=cumulative,
                    bake=format_duration(rules.bake),
                    gate=rules.gate.value,
                )
            )
        return cls(
            fix_id=shown.fix.id,
            service=shown.service,
            target_version=shown.fix.version,
            policy=shown.policy.name,
            approval_required=shown.policy.approval_required,
            stages=stages,
            already_on_target=len(shown.plan.already_on_target),
        )


class RolloutSummary(BaseModel):
    id: int
    case_id: int
    fix_id: int
    service: str
    target_version: str
    policy: str
    backend: str
    health_source: str
    status: str
    status_reason: str
    started_by: str
    approver: str | None
    approved_at: datetime | None
    evidence_overridden: bool
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    units: dict[str, int] = Field(default_factory=dict, description="Units by status.")


class StageOut(BaseModel):
    index: int
    kind: str
    regions: list[str]
    traffic: float
    status: str
    begun_at: datetime | None
    baking_since: datetime | None
    finished_at: datetime | None
    verdict: str | None
    verdict_reason: str
    explanation: list[str] = Field(description="The gate in plain words, a sentence each.")
    alerted: bool
    holding_since: datetime | None = Field(description="Undecided since (None: it decides).")
    extended_until: datetime | None = Field(description="A person gave it time until then.")
    max_hold_reached: bool = Field(description="It held past the policy's max_hold.")
    evidence: dict[str, Any] | None
    history: list[list[float | None]] = Field(
        description="After each look: [seconds since the stage began, error ratio, its 95% low "
        "and high, latency change, its low and high]."
    )
    units: list[list[Any]] = Field(
        description="[unit id, name, status, last error, why it is left out of the evidence "
        "(None: it is not)] each."
    )


class RolloutOut(RolloutSummary):
    operations: list[str] = Field(description="The operations that can succeed now.")
    stages: list[StageOut]


class LiveRollout(BaseModel):
    """A rollout that is not finished, with the stage it is at."""

    id: int
    case_id: int
    tracking_id: str
    service: str
    target_version: str
    status: str
    status_reason: str
    stages: int
    stage: int | None = Field(description="The first stage that has not passed.")
    stage_kind: str | None
    stage_regions: list[str]
    stage_status: str | None
    units: int
    deployed: int


class StageAttention(BaseModel):
    """A stage someone should look at: failed, or its gate without a verdict (holding or
    pending) past the policy's ``hold_alert_after`` (alerted)."""

    rollout_id: int
    case_id: int
    tracking_id: str
    service: str
    rollout_status: str
    index: int
    kind: str
    regions: list[str]
    status: str
    verdict: str | None
    verdict_reason: str
    alerted: bool
    since: datetime | None
