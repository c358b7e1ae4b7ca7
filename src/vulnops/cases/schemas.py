from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from vulnops.cases.assessment import parse_cwe
from vulnops.cases.severity import DataSensitivity, Impact, Rating
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, TechnicalImpact, yes_no
from vulnops.cases.states import CaseState, Milestone
from vulnops.db.bounded import Flag, Input
from vulnops.errors import Invalid


class CaseIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    summary: str = Field(default="", max_length=100_000)
    services: list[str] = Field(default_factory=list, max_length=50)
    owner_id: int | None = Field(default=None, description="The engineer who owns the fix.")
    responder_id: int | None = None
    report_ids: list[int] = Field(
        default_factory=list, max_length=500, description="Reports this case is opened from."
    )
    restricted: Flag | None = Field(
        default=None,
        description="Only its team (owner, responder, members, its creator) sees it; unset: "
        "not chosen, and a critical rating restricts it (VULNOPS_RESTRICT_CRITICAL_CASES).",
    )


class CasePatch(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=3, max_length=300)
    summary: str | None = Field(default=None, max_length=100_000)
    services: list[str] | None = Field(default=None, max_length=50)
    owner_id: int | None = None
    responder_id: int | None = None
    reason: str | None = Field(default=None, max_length=2000)


class SeverityIn(Input):
    """The whole assessment; it replaces the previous one and is recorded with its reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cvss31_vector: str | None = Field(default=None, max_length=200)
    cvss40_vector: str | None = Field(default=None, max_length=300)
    impact: Impact | None = None
    data_sensitivity: DataSensitivity | None = None
    exploitation: Exploitation = Exploitation.NONE
    automatable: Annotated[Flag | None, BeforeValidator(yes_no)] = None
    technical_impact: TechnicalImpact | None = None
    mission_wellbeing: MissionWellbeing | None = None
    cwe_id: int | None = Field(default=None, description="79 or CWE-79.")
    publicly_disclosed: Flag = False
    customer_action_required: Flag = False
    reason: str = Field(min_length=1, max_length=2000, description="Why; kept in the event log.")

    @field_validator("cwe_id", mode="before")
    @classmethod
    def _cwe(cls, value: object) -> int | None:
        try:
            return parse_cwe(
                value if isinstance(value, (str, int)) or value is None else str(value)
            )
        except Invalid as error:
            raise ValueError(error.detail) from None


class TransitionIn(Input):
    model_config = ConfigDict(extra="forbid")

    state: CaseState
    reason: str | None = Field(default=None, max_length=2000)


class ReasonIn(Input):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class MilestoneOut(BaseModel):
    """One fact of a case: when, who, what made it true (``source``), whether it was skipped."""

    milestone: Milestone
    at: datetime
    actor: str
    source: str
    reason: str | None
    skipped: bool


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tracking_id: str
    title: str
    summary: str
    state: CaseState
    services: list[str]
    owner_id: int | None
    responder_id: int | None
    cvss31_vector: str | None
    cvss31_score: float | None
    cvss40_vector: str | None
    cvss40_score: float | None
    impact: Impact | None
    data_sensitivity: DataSensitivity | None
    rating: Rating | None
    exploitation: Exploitation
    automatable: bool | None
    technical_impact: TechnicalImpact | None
    mission_wellbeing: MissionWellbeing | None
    ssvc_decision: str | None
    cwe_id: int | None
    publicly_disclosed: bool
    customer_action_required: bool
    restricted: bool = Field(description="Only its team sees it (need to know).")
    started_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    triaged_at: datetime | None
    mitigated_at: datetime | None
    closed_at: datetime | None
    acknowledge_due: datetime | None
    triage_due: datetime | None
    mitigate_due: datetime | None
    next_due: datetime | None
    overdue: bool = False
    updated_at: datetime


class CvssOut(BaseModel):
    version: str
    vector: str = Field(description="The vector as the library writes it back.")
    base_score: float
    severity: str


class TeamIn(Input):
    model_config = ConfigDict(extra="forbid")

    restricted: Flag = Field(description="Only the team sees the case.")
    members: list[int] = Field(
        default_factory=list, max_length=200, description="User ids besides owner and responder."
    )


class MemberOut(BaseModel):
    user_id: int
    name: str
    role: str = Field(description="owner, responder, member or break_glass")
    reason: str | None = None


class TeamOut(BaseModel):
    restricted: bool
    members: list[MemberOut]


class BreakGlassIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tracking_id: str = Field(max_length=40)
    reason: str = Field(min_length=10, max_length=2000)
