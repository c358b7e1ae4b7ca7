"""The work queue as pages and the API show it."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from vulnops.auth.roles import Role
from vulnops.workqueue.sections import SectionKey

Tone = Literal["bad", "warn", "good", ""]


class QueueItem(BaseModel):
    label: str = Field(description="What it is: a tracking number, a rollout's number.")
    title: str
    href: str | None = None
    detail: str = Field(description="What it waits for, in a sentence.")
    due: AwareDatetime | None = Field(default=None, description="Its deadline, if it has one.")
    tone: Tone = ""


class QueueSection(BaseModel):
    key: SectionKey
    title: str
    count: int = Field(description="All that is in this section, not only the items shown.")
    alarm: bool = Field(description="The count is a problem while it is not zero.")
    items: list[QueueItem]
    more_href: str | None = Field(description="The list with all of them.")
    empty: str = Field(description="What an empty section means.")


class WorkQueue(BaseModel):
    role: Role
    at: AwareDatetime
    sections: list[QueueSection]
