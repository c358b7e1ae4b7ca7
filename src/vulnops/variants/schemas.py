"""Inputs and read models of root causes, hunts, findings and classes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Flag, Id, Input, Text

Strategy = Literal["code", "sarif", "components", "configuration", "history"]
Relation = Literal["variant", "bypass", "regression"]
Decision = Literal["variant", "bypass", "regression", "duplicate", "not_a_problem"]


class RootCauseIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cwe_id: int | None = Field(default=None, ge=1, le=100_000, description="The weakness (CWE).")
    introduced_repository: Text = Field(default="", max_length=1000)
    introduced_ref: Text = Field(
        default="", max_length=200, description="The commit or version that introduced it."
    )
    cause: Text = Field(default="", max_length=20_000, description="The root cause, in words.")
    found_how: Text = Field(default="", max_length=20_000)
    found_earlier: Text = Field(
        default="", max_length=20_000, description="How it could have been found earlier."
    )
    detection_ideas: Text = Field(default="", max_length=20_000)


class ImprovementIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Text = Field(min_length=1, max_length=5000)
    owner_id: Id
    due: date


class HuntIn(Input):
    """A hunt's strategy and its question; the fields of the other strategies stay empty."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    strategy: Strategy | None = None
    rule: Text = Field(default="", max_length=100_000, description="code: a Semgrep rule (YAML).")
    services: list[Text] = Field(
        default_factory=list, max_length=200, description="code: only these services' code."
    )
    purl: Text = Field(default="", max_length=2000, description="components: a package URL.")
    range: Text = Field(default="", max_length=2000, description="components: a vers: range.")
    tags_all: list[Text] = Field(default_factory=list, max_length=50)
    tags_any: list[Text] = Field(default_factory=list, max_length=50)
    tags_none: list[Text] = Field(default_factory=list, max_length=50)
    cwe_id: int | None = Field(
        default=None, ge=1, le=100_000, description="history: the weakness (else the case's)."
    )


class DecisionIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Decision
    reason: Text = Field(default="", max_length=5000)
    duplicate_of: Id | None = Field(default=None, description="duplicate: the case it repeats.")
    one_fix_fixes_both: Flag | None = Field(
        default=None, description="duplicate: would the first fix have fixed this one too?"
    )


class LinkIn(Input):
    model_config = ConfigDict(extra="forbid")

    parent_id: Id
    relation: Relation


class CloseClassIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(default="", max_length=5000)


class Weakness(BaseModel):
    cwe_id: int
    name: str
    abstraction: str


class ImprovementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    action: str
    owner_id: int
    owner: str
    due: date
    done_at: datetime | None
    done_by: str | None
    overdue: bool


class RootCauseOut(BaseModel):
    case_id: int
    weakness: Weakness | None
    ancestors: list[Weakness]
    introduced_repository: str
    introduced_ref: str
    cause: str
    found_how: str
    found_earlier: str
    detection_ideas: str
    updated_by: str | None
    updated_at: datetime | None
    improvements: list[ImprovementOut]


class LinkOut(BaseModel):
    case_id: int
    tracking_id: str
    title: str
    state: str
    relation: str


class LocationOut(BaseModel):
    service: str
    location: str
    state: str
    message: str
    findings: int


class HuntOut(BaseModel):
    id: int
    case_id: int
    strategy: str
    params: dict[str, Any]
    state: str
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    locations_total: int
    locations_done: int
    findings: int
    candidates: int
    locations: list[LocationOut]


class FindingOut(BaseModel):
    id: int
    hunt_id: int
    service: str | None
    about_case_id: int | None
    title: str
    location: str
    rule_id: str
    detail: dict[str, Any]
    state: str
    reason: str | None
    decided_case_id: int | None
    decided_by: str | None
    decided_at: datetime | None


class ClassCase(BaseModel):
    case_id: int
    tracking_id: str
    title: str
    state: str
    services: list[str]
    opened_at: datetime
    mitigated_at: datetime | None
    relation: str | None
    fixed: bool


class Recurrence(BaseModel):
    service: str
    cases: int
    first: datetime
    last: datetime


class ClassOut(BaseModel):
    weakness: Weakness
    ancestors: list[Weakness]
    state: Literal["open", "closed", "reopened"]
    closed_at: datetime | None
    closed_by: str | None
    cases: list[ClassCase]
    open_variants: int
    improvements_done: int
    improvements_open: int
    recurrence: list[Recurrence]
    guards: int


class ClassRow(BaseModel):
    cwe_id: int
    name: str
    cases: int
    open_cases: int
    services: int
    median_days_to_fix: float | None
    recurrences: int
    closed: bool
