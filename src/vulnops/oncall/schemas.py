"""The on-call document (YAML, like the fleet's topology): schedules with their layers and
overrides, escalation policies with their steps — users named by email. Shapes and bounds are
checked here; what needs the database or the schedule's arithmetic (users that exist, targets,
RRULEs, time zones) is checked by the import before anything is written."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TARGET = re.compile(r"^(user|schedule|layer):(.+)$")


def _target(value: str) -> str:
    """``user:EMAIL``, ``schedule:KEY`` (who is on call on it) or ``layer:KEY/NAME`` (everyone
    in that layer's rotation)."""
    found = TARGET.match(value)
    if found is None:
        raise ValueError("a target is user:EMAIL, schedule:KEY or layer:KEY/LAYER")
    if found.group(1) == "layer" and "/" not in found.group(2):
        raise ValueError("a layer target is layer:SCHEDULE/LAYER")
    return value


Target = Annotated[str, Field(max_length=500), AfterValidator(_target)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RestrictionIn(_Strict):
    """On call only on these days, between these local times (an end at or before the start
    runs past midnight)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1, max_length=7)
    start: time
    end: time


class LayerIn(_Strict):
    name: str = Field(min_length=1, max_length=100)
    start: datetime = Field(description="The first hand-off, local time in the layer's zone.")
    rotation: str = Field(
        min_length=1, max_length=500, description='hourly, daily, weekly or rrule: "FREQ=…"'
    )
    users: list[Email] = Field(min_length=1, max_length=200)
    time_zone: str | None = Field(
        default=None, max_length=64, description="Its own zone (default: the schedule's)."
    )
    restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _local(self) -> LayerIn:
        if self.start.tzinfo is not None:
            raise ValueError(
                "start is a local time in the schedule's zone: write it without offset"
            )
        if self.rotation.startswith("rrule:"):
            self.rotation = self.rotation.removeprefix("rrule:").strip()
        return self


class OverrideIn(_Strict):
    user: Email
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> OverrideIn:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("give both start and end with an offset, or both without")
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")
        return self


class ScheduleIn(_Strict):
    key: Key
    name: str = Field(default="", max_length=200)
    time_zone: str = Field(min_length=1, max_length=64)
    layers: list[LayerIn] = Field(min_length=1, max_length=20)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _distinct_layers(self) -> ScheduleIn:
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError("two layers have the same name")
        return self


class StepIn(_Strict):
    delay_minutes: int = Field(ge=0, le=24 * 60)
    targets: list[Target] = Field(min_length=1, max_length=20)


class PolicyIn(_Strict):
    key: Key
    name: str = Field(default="", max_length=200)
    repeat: int = Field(default=0, ge=0, le=10, description="Times the steps run again.")
    default: bool = False
    services: list[Key] = Field(default_factory=list, max_length=500)
    steps: list[StepIn] = Field(min_length=1, max_length=20)


class OncallDocument(_Strict):
    schedules: list[ScheduleIn] = Field(default_factory=list, max_length=1000)
    escalation_policies: list[PolicyIn] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _one_default(self) -> OncallDocument:
        if sum(policy.default for policy in self.escalation_policies) > 1:
            raise ValueError("at most one escalation policy is the default")
        for section, keys in (
            ("schedules", [s.key for s in self.schedules]),
            ("escalation_policies", [p.key for p in self.escalation_policies]),
        ):
            if len(set(keys)) != len(keys):
                raise ValueError(f"{section}: two have the same key")
        return self
