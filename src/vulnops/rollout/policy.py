"""Rollout policies (pure): how a rollout is staged, how long each stage bakes at least, and how
strict its health gate is. Policies are data — ``policies.yaml`` shipped beside this module, or
``VULNOPS_ROLLOUT_POLICY_FILE`` — checked whole when loaded: an unknown key or a negative
duration is an error that names it."""

from __future__ import annotations

import itertools
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from vulnops.durations import format_duration, parse_duration

DEFAULT_POLICY_FILE = Path(__file__).with_name("policies.yaml")


class PolicyError(ValueError):
    """The policy file says something we cannot use; the message names where."""


def _duration(value: object) -> timedelta:
    return parse_duration(value, allow_zero=True)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


class GateMode(StrEnum):
    """``required``: the next stage waits until this one's gate passes. ``watch``: the next stage
    starts once this one is deployed; the gate keeps watching and a failure still halts and rolls
    back."""

    REQUIRED = "required"
    WATCH = "watch"


# What happens when a stage holds past ``max_hold`` (it never passes silently).
MaxHold = Literal["page", "halt"]
HandOverride = Literal["second_person", "one_person"]


class StageRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bake: Duration = Field(description="The least time a stage is watched before it may pass.")
    gate: GateMode = GateMode.REQUIRED


class GateRules(BaseModel):
    """The statistics of every gate (see gates.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(
        0.01, gt=0, lt=0.5, description="False-alarm (and false-pass) probability per gate."
    )
    error_margin: float = Field(
        1.5, gt=1, description="Pass once the error-rate ratio is shown to be below this."
    )
    error_tolerance: float = Field(
        1.05,
        ge=1,
        description="Error-rate ratios up to this are not a regression: fail only once the "
        "ratio is shown above it (at very large traffic any small bias between the groups "
        "would otherwise be significant).",
    )
    latency_margin: float = Field(
        0.1, gt=0, description="Pass once latency is shown to be at most this much higher."
    )
    latency_tolerance: float = Field(
        0.02, ge=0, description="Latency increases up to this share are not a regression."
    )
    min_requests: int = Field(
        1000, ge=1, description="Requests the updated units must serve before a pass."
    )
    interval: Duration = Field(timedelta(minutes=1), description="One observation's length.")
    baseline: Duration = Field(
        timedelta(minutes=30), description="Window before a stage deploys that sets its baseline."
    )
    hold_alert_after: Duration = Field(
        timedelta(minutes=15), description="Alert when a gate has no verdict this long past bake."
    )
    max_hold: Duration = Field(
        timedelta(hours=4),
        description="The longest a stage may hold with no verdict past its bake (or since a "
        "person extended it); then ``on_max_hold``.",
    )
    on_max_hold: MaxHold = Field(
        default="page", description="page: page the on-call again; halt: halt the rollout."
    )

    @model_validator(mode="after")
    def _consistent(self) -> GateRules:
        if self.latency_tolerance >= self.latency_margin:
            raise ValueError("latency_tolerance must be below latency_margin")
        if self.error_tolerance >= self.error_margin:
            raise ValueError("error_tolerance must be below error_margin")
        if self.interval <= timedelta(0):
            raise ValueError("interval must be positive")
        if self.max_hold < self.hold_alert_after:
            raise ValueError("max_hold must be at least hold_alert_after")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    canary: StageRules
    pilot: StageRules
    waves: StageRules
    wave_shares: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        min_length=1,
        description="Cumulative share of the traffic after the pilot that each wave brings to the "
        "fix; increasing, the last is 1.",
    )
    max_parallel_units: int = Field(10, ge=1, description="Units deployed at once in a stage.")
    approval_required: bool = Field(
        False, description="A named approver other than the starter must approve first."
    )
    deploy_attempts: int = Field(3, ge=1, description="Tries per unit before it is failed.")
    retry_backoff: Duration = Field(timedelta(seconds=30), description="Doubles on each retry.")
    gates: GateRules = GateRules()
    hand_override: HandOverride = Field(
        default="second_person",
        description="Who may pass a stage by hand: second_person (someone other than the "
        "rollout's starter, with rollouts:approve) or anyone who manages rollouts.",
    )

    def stage_rules(self, kind: str) -> StageRules:
        """The rules of a stage of this kind (canary, pilot or wave)."""
        return {"canary": self.canary, "pilot": self.pilot, "wave": self.waves}[kind]

    @model_validator(mode="after")
    def _waves_grow(self) -> Policy:
        shares = self.wave_shares
        if any(b <= a for a, b in itertools.pairwise(shares)) or shares[-1] != 1:
            raise ValueError(f"wave_shares must increase and end at 1, not {shares}")
        return self


def _where(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"]) or "policy"


def parse_policies(document: Any, *, source: str = "policies") -> dict[str, Policy]:
    if not isinstance(document, dict) or not document:
        raise PolicyError(f"{source}: expected a mapping of policy names to policies")
    policies: dict[str, Policy] = {}
    for name, body in document.items():
        if not isinstance(body, dict):
            raise PolicyError(f"{source}: {name}: expected a mapping")
        try:
            policies[str(name)] = Policy.model_validate({**body, "name": str(name)})
        except ValidationError as error:
            first = error.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                message = "unknown key"
            raise PolicyError(f"{source}: {name}.{_where(first)}: {message}") from None
    return policies


def load_policies(path: Path | None = None) -> dict[str, Policy]:
    source = path or DEFAULT_POLICY_FILE
    try:
        document = yaml.safe_load(source.read_text())
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: not valid YAML: {error}") from None
    return parse_policies(document, source=str(source))
