"""What the review's pages, API, exports and the metrics return (typed read models) and take."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vulnops.db.bounded import Flag, Input
from vulnops.review.measures import Point
from vulnops.variants.schemas import LinkOut, RootCauseOut

ReviewState = Literal["draft", "in_review", "published"]
DeadlineStatus = Literal["met", "missed", "open", "none"]


class PointTime(BaseModel):
    point: Point
    label: str
    at: datetime | None
    actor: str | None = None
    hours_since_previous: float | None = Field(
        description="Hours since the previous point that was reached."
    )


class DurationOut(BaseModel):
    key: str
    label: str
    start: Point
    end: Point
    hours: float | None


class DeadlineOut(BaseModel):
    name: str
    due: datetime | None
    met_at: datetime | None
    status: DeadlineStatus


class TimelineEntry(BaseModel):
    at: datetime
    sentence: str
    tone: str
    kind: str
    actor: str


class ExposureRow(BaseModel):
    service: str
    tenant_id: int = Field(description="0 outside the case's team.")
    tenant: str = Field(description="The tenant's name; 'customer N' outside the case's team.")
    units: int
    resources: int
    since: datetime
    until: datetime | None = Field(description="When the fix reached its last unit (None: not).")
    hours: float


class ExposureOut(BaseModel):
    since: datetime | None
    since_from: Literal["advisory", "report", "none"] = Field(
        description="Where the start comes from: the advisory's 'exposed since', or the report."
    )
    tenants: int
    services: int
    still_exposed: int = Field(description="Service and tenant pairs the fix has not reached.")
    tenant_hours: float
    rows: list[ExposureRow] = Field(description="The most exposed pairs first (at most 200).")


class CustomerComment(BaseModel):
    tenant_id: int = Field(description="0 outside the case's team.")
    tenant: str
    rating: int
    comment: str
    given_at: datetime


class CustomerQuestion(BaseModel):
    tenant_id: int = Field(description="0 outside the case's team (who are not shown any).")
    tenant: str
    body: str
    asked_at: datetime
    answered_at: datetime | None


class CustomerQuestionsOut(BaseModel):
    """What the customers asked in their conversations about the advisory. The questions are
    quoted to the case's team only."""

    asked: int = 0
    tenants: int = 0
    answered: int = 0
    median_hours_to_answer: float | None = None
    longest_hours_to_answer: float | None = None
    quoted: list[CustomerQuestion] = Field(default_factory=list)


class CustomerFeedbackOut(BaseModel):
    recipients: int
    acknowledged: int
    acknowledgment_rate: float | None
    median_hours_to_acknowledge: float | None
    ratings: list[int] = Field(description="How many gave 1, 2, 3, 4 and 5.")
    average_rating: float | None
    comments: list[CustomerComment]
    # A default for the reviews published before the conversations existed.
    questions: CustomerQuestionsOut = Field(default_factory=CustomerQuestionsOut)


class BountyOut(BaseModel):
    report: str
    status: str
    amount: str


class ReviewRecord(BaseModel):
    """What a review says that comes from the record: generated while the review is a draft,
    kept as it was when it is published."""

    generated_at: datetime
    points: list[PointTime]
    durations: list[DurationOut]
    deadlines: list[DeadlineOut]
    timeline: list[TimelineEntry]
    exposure: ExposureOut
    customers: CustomerFeedbackOut
    root_cause: RootCauseOut
    variants: list[LinkOut]
    bounty: list[BountyOut]


class ActionItemOut(BaseModel):
    id: int
    case_id: int
    tracking_id: str = ""
    title: str
    tracker: str
    owner_id: int
    owner: str
    due: date
    done_at: datetime | None
    done_by: str | None
    overdue: bool


class ResponderOut(BaseModel):
    user_id: int
    name: str
    asked_at: datetime
    rating: int | None
    comment: str
    given_at: datetime | None


class ReviewOut(BaseModel):
    case_id: int
    tracking_id: str
    title: str
    rating: str | None
    restricted: bool
    state: ReviewState
    impact: str
    went_well: str
    went_wrong: str
    lucky: str
    authors: list[str]
    started_by: str
    started_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    rejected_comment: str | None
    published_by: str | None
    published_at: datetime | None
    missing: list[str] = Field(description="What must be written before it is submitted.")
    record: ReviewRecord
    responders: list[ResponderOut]
    action_items: list[ActionItemOut]
    names_tenants: bool = Field(description="Whether the viewer is on the case's team.")


class ReviewListItem(BaseModel):
    case_id: int
    tracking_id: str
    title: str
    rating: str | None
    state: ReviewState
    started_at: datetime
    published_at: datetime | None
    open_items: int
    overdue_items: int


class SectionsIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    impact: str = Field(default="", max_length=20_000)
    went_well: str = Field(default="", max_length=20_000)
    went_wrong: str = Field(default="", max_length=20_000)
    lucky: str = Field(default="", max_length=20_000)


class ActionItemIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=5000)
    owner_id: int = Field(ge=1, le=2**63 - 1)
    due: date
    tracker: str = Field(
        default="", max_length=500, description="Where the work is tracked (an issue's address)."
    )


class DecisionIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approve: Flag
    comment: str | None = Field(default=None, max_length=5000)


class ResponderFeedbackIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)
