from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Input


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    step: str
    subject: str
    case_id: int | None
    summary: str
    authors: list[str]
    approver: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    single_person: bool


class DecisionIn(Input):
    """A decision on what waits for approval: a comment is kept (and needed to reject)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: str | None = Field(default=None, max_length=4000)
