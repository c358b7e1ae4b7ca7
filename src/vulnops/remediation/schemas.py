from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Input


class FixIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=100)
    artifact: str = Field(default="", max_length=500, description="e.g. an image reference")
    notes: str = Field(default="", max_length=20000)


class OverrideIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000)


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    suite: str
    file_name: str
    sha256: str
    tests: int
    failures: int
    errors: int
    skipped: int
    passed: bool
    failed_cases: list[dict[str, Any]]
    uploaded_by: str
    uploaded_at: datetime


class FixOut(BaseModel):
    id: int
    case_id: int
    service: str
    version: str
    artifact: str
    notes: str
    created_by: str
    created_at: datetime
    ready: bool = Field(description="Both suites passed, or an administrator overrode that.")
    missing: list[str] = Field(description="What keeps the fix from rolling out.")
    override_reason: str | None
    override_by: str | None
    evidence: dict[str, EvidenceOut] = Field(description="The newest report of each suite.")
