"""Input and output of disclosure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vulnops.db.bounded import Flag, Input


class PublicTextIn(Input):
    """The case as the public reads it (Markdown): written for the public, never the internal
    summary."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    description: str = Field(min_length=1, max_length=50_000)
    impact: str = Field(default="", max_length=20_000)
    customer_action: str = Field(
        default="", max_length=20_000, description="What customers must do (empty: nothing)."
    )
    acknowledgments: str = Field(
        default="", max_length=5_000, description="Thanks beyond the reporters' credit names."
    )


class PublicTextOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    description: str
    impact: str
    customer_action: str
    acknowledgments: str
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class DiscloseIn(Input):
    """Ask for the case's public disclosure; a second person approves it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_from: AwareDatetime | None = Field(
        default=None,
        description="The end of the embargo, with its time zone (default: when it is approved).",
    )
    cve_choice: Literal["reserve", "without"] | None = Field(
        default=None,
        description="When a CVE is needed and none is reserved: reserve one now, or disclose "
        "without one (with without_cve_reason).",
    )
    without_cve_reason: str | None = Field(default=None, max_length=2000)
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="An administrator's reason to override a rule (customers not notified).",
    )


class EndEmbargoIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000, description="Why it ends early.")


class PublishCveIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    when_public: Flag = Field(
        default=False,
        description="During the embargo: publish when it ends (a scheduled job does).",
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="An administrator's reason to override the rules that allow it.",
    )


class DisclosureOut(BaseModel):
    """The CVE decision, the CVE id and its publication, the embargo and the disclosure."""

    policy: str
    cve: bool
    reason: str
    tags: list[str]
    cve_id: str | None
    cve_reserved_at: datetime | None
    cve_published_at: datetime | None
    cve_publish_requested_by: str | None
    cve_publish_error: str | None
    no_cve_reason: str | None
    without_cve_reason: str | None
    requested_public_from: datetime | None
    requested_by: str | None
    public_from: datetime | None
    disclosed_at: datetime | None
    disclosed_by: str | None
    notified: bool
    public: bool
    public_text: PublicTextOut | None
    public_text_draft: PublicTextOut | None
    four_eyes: bool
