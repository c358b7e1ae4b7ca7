"""What the notification API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Flag, Input
from vulnops.notify.rendering import DEFAULT_BODY


class DraftIn(Input):
    """The content of the advisory's next version (a draft until approved)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    summary: str = Field(min_length=3, max_length=20_000, description="What happened, and when.")
    exposed_since: datetime = Field(
        description="When the affected systems became vulnerable (exposure starts there)."
    )
    action_required: Flag = False
    action_steps: str = Field(
        default="", max_length=20_000, description="Exactly what the customer must do."
    )
    body: str = Field(
        default=DEFAULT_BODY,
        min_length=1,
        max_length=100_000,
        description="A Jinja2 template of the advisory (Markdown) rendered for each tenant.",
    )


class TranslationIn(Input):
    """A version's text in another language; the facts (exposure, whether action is required)
    are the original's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    summary: str = Field(min_length=3, max_length=20_000)
    action_steps: str = Field(default="", max_length=20_000)
    body: str = Field(
        min_length=1,
        max_length=100_000,
        description="The template in that language (the same names as the original's).",
    )


class TranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    language: str
    title: str
    summary: str
    action_steps: str
    body: str
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class TranslationSaved(TranslationOut):
    note: str | None = Field(
        default=None, description="Said when no tenant of the audience reads this language."
    )


class ReasonIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=2000)


class FeedbackIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    comment: str = Field(default="", max_length=5000)


class PreferencesIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: str = Field(max_length=35, description="A BCP 47 tag: en, fr, pt-BR…")
    time_zone: str = Field(max_length=64, description="An IANA time zone: Europe/Paris, UTC…")


class WebhookIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(default="", max_length=2000, description="Empty removes the endpoint.")


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    summary: str
    exposed_since: datetime
    action_required: bool
    action_steps: str
    body: str
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_by: str | None
    sent_at: datetime | None
    channels: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Deliveries by channel and status (first messages)."
    )
    acknowledged: int = 0
    translations: list[TranslationOut] = Field(default_factory=list)
    languages: dict[str, int] = Field(
        default_factory=dict,
        description="Once sent: how many tenants received each translation ('' the original).",
    )


class WithdrawnOut(BaseModel):
    at: datetime
    by: str | None = Field(default=None, description="Who withdrew it (for the team only).")
    reason: str


class WithdrawIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(max_length=2000, description="Why: the tenants read it.")


class AdvisoryOut(BaseModel):
    id: int
    case_id: int
    withdrawn: WithdrawnOut | None = None
    recipients: int
    feedback: dict[str, Any]
    versions: list[VersionOut]


class TenantVersionOut(BaseModel):
    number: int
    title: str
    sent_at: datetime
    action_required: bool
    text: str
    acknowledged_at: datetime | None
    language: str | None = Field(
        default=None, description="The translation the tenant received (None: the original)."
    )


class TenantAdvisoryOut(BaseModel):
    id: int
    tracking_id: str
    tlp: str
    withdrawn: WithdrawnOut | None = None
    versions: list[TenantVersionOut]
    feedback: dict[str, Any] | None


class DeliveryOut(BaseModel):
    id: int
    channel: str
    reminder: int
    status: str
    attempts: int
    last_error: str | None
    updated_at: datetime
    delivered_at: datetime | None
    tenant: str
    version: int
    advisory_id: int
    tracking_id: str
    case_id: int


class UnsentVersion(BaseModel):
    """An advisory version written but not sent: a draft waiting for approval, or approved."""

    advisory_id: int
    case_id: int
    tracking_id: str
    number: int
    title: str
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None


class DeadOfAdvisory(BaseModel):
    """An advisory's dead deliveries: each retried until it gave up."""

    advisory_id: int
    case_id: int
    tracking_id: str
    dead: int
    tenants: int
    last_error: str | None
    since: datetime


class MessageIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(
        min_length=1,
        max_length=10_000,
        description="Markdown (rendered safely: no HTML, no images from elsewhere).",
    )


class MessageAttachmentOut(BaseModel):
    id: int
    filename: str
    size: int


class AdvisoryMessageOut(BaseModel):
    id: int
    from_staff: bool
    author: str
    body: str
    created_at: datetime
    attachments: list[MessageAttachmentOut] = Field(default_factory=list)


class ConversationOut(BaseModel):
    advisory_id: int
    tenant_id: int
    tenant_key: str
    tenant_name: str
    messages: int
    last_message_at: datetime | None
    waiting_since: datetime | None = Field(
        description="The tenant's first message since the team last answered (None: nothing waits)."
    )
    answer_due: datetime | None
    overdue: bool


class ThreadOut(BaseModel):
    conversation: ConversationOut
    messages: list[AdvisoryMessageOut]


class WaitingQuestion(BaseModel):
    advisory_id: int
    case_id: int
    tracking_id: str
    rating: str | None
    tenant_id: int
    tenant_name: str
    waiting_since: datetime
    answer_due: datetime
    overdue: bool


class ResourceMarkIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["checked", "needs_help"] = Field(
        description="checked: done on your side; needs_help: the team should look."
    )
    note: str = Field(default="", max_length=2000)


class ResourceMarkOut(BaseModel):
    resource_id: int
    external_id: str
    region: str
    unit: str
    status: str | None
    note: str
    marked_by: str | None
    marked_at: datetime | None


class TenantResourcesOut(BaseModel):
    total: int = Field(description="The tenant's affected resources (the first 200 are listed).")
    checked: int
    needs_help: int
    resources: list[ResourceMarkOut]


class TenantProgressOut(BaseModel):
    tenant_id: int
    tenant_key: str
    tenant_name: str
    resources: int = Field(description="Its affected resources, when the advisory was sent.")
    checked: int
    needs_help: int
    unmarked: int
