from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Input
from vulnops.intake.states import CloseReason, ReportState, Severity, Source


class ReportIn(Input):
    """A report. ``exercise`` is for internal findings (red or blue team exercise name)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    description: str = Field(min_length=1, max_length=100_000, description="Markdown.")
    service: str | None = Field(default=None, max_length=100)
    endpoint: str | None = Field(default=None, max_length=500)
    reproduction: str = Field(default="", max_length=100_000, description="Markdown.")
    impact: str = Field(default="", max_length=20_000, description="The impact claimed.")
    contact: str | None = Field(default=None, max_length=320)
    credit_name: str | None = Field(default=None, max_length=200)
    exercise: str | None = Field(default=None, max_length=200)


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class MessageIn(Input):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=50_000)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_staff: bool
    author: str
    body: str
    created_at: datetime


class StatusChange(BaseModel):
    state: str
    at: datetime
    note: str | None


class ReportSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tracking_id: str
    source: Source
    state: ReportState
    close_reason: CloseReason | None
    title: str
    service: str | None
    endpoint: str | None
    severity: Severity | None
    case_id: int | None
    received_at: datetime
    updated_at: datetime


class ReportOut(ReportSummary):
    description: str
    reproduction: str
    impact: str
    resolution: str | None
    contact: str | None
    credit_name: str | None
    exercise: str | None
    scanner: str | None
    rule_id: str | None
    case_tracking_id: str | None = None
    attachments: list[AttachmentOut] = []
    history: list[StatusChange] = []


class TransitionIn(Input):
    model_config = ConfigDict(extra="forbid")

    state: ReportState
    close_reason: CloseReason | None = None
    resolution: str | None = Field(
        default=None,
        max_length=20_000,
        description="What the reporter reads: why it was closed, or what information is missing.",
    )


class MergeIn(Input):
    model_config = ConfigDict(extra="forbid")

    case_id: int


class Candidate(BaseModel):
    kind: str = Field(description="report, case, or restricted (a case only its team sees)")
    id: int
    case_id: int | None = Field(default=None, exclude=True)
    tracking_id: str
    title: str
    state: str
    score: float = Field(description="0..1; higher is more alike.")
    reasons: list[str]
    restricted_owner: str | None = Field(
        default=None, description="For a restricted case: who owns it, to ask."
    )


class ScanImportOut(BaseModel):
    scanner_runs: int
    findings: int
    created: int
    already_known: int
    reports: list[ReportSummary]
