"""What a rollout does next (pure): from the plan, the observed state of every unit, the gate
verdicts and the time, the actions to carry out — deploy these units, begin or pass a stage, fail
it and roll its units back, halt, finish.

The controller calls ``decide`` again after carrying out what it returned, until only waiting is
left; every call starts from the state as recorded, so a controller that died half-way simply
decides again (level-triggered). A unit found mid-deployment at the start of a call was left so
by a controller that died: it is reconciled with what the backend reports before anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.plan import StageKind
from vulnops.rollout.policy import GateMode, Policy


class RolloutStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"
    ROLLING_BACK = "rolling_back"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


ACTIVE = frozenset(
    {
        RolloutStatus.AWAITING_APPROVAL,
        RolloutStatus.RUNNING,
        RolloutStatus.PAUSED,
        RolloutStatus.HALTED,
        RolloutStatus.ROLLING_BACK,
    }
)


class StageStatus(StrEnum):
    PENDING = "pending"
    DEPLOYING = "deploying"
    BAKING = "baking"
    PASSED = "passed"
    FAILED = "failed"


class UnitStatus(StrEnum):
    PENDING = "pending"
    DEPLOYING = "deploying"
    DEPLOYED = "deployed"
    FAILED = "failed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"


ON_TARGET = frozenset({UnitStatus.DEPLOYED, UnitStatus.ROLLING_BACK})


@dataclass(frozen=True)
class UnitView:
    id: int
    stage: int
    status: UnitStatus
    attempts: int = 0
    retry_at: datetime | None = None


@dataclass(frozen=True)
class StageView:
    index: int
    kind: StageKind
    status: StageStatus
    baking_since: datetime | None = None
    verdict: VerdictKind | None = None
    verdict_reason: str = ""
    holding_since: datetime | None = None
    alerted: bool = False
    extended_until: datetime | None = None
    max_hold_reached: bool = False


@dataclass(frozen=True)
class RolloutView:
    status: RolloutStatus
    policy: Policy
    stages: Sequence[StageView]
    units: Sequence[UnitView]


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconcile:
    """Ask the backend what these units run: a controller died while changing them."""

    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class BeginStage:
    """Measure the baseline, then start deploying the stage."""

    stage: int


@dataclass(frozen=True)
class Deploy:
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class StartBaking:
    stage: int


@dataclass(frozen=True)
class PassStage:
    stage: int
    reason: str


@dataclass(frozen=True)
class FailStage:
    stage: int
    reason: str


@dataclass(frozen=True)
class RollBack:
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class Halt:
    reason: str


@dataclass(frozen=True)
class Alert:
    stage: int
    reason: str


@dataclass(frozen=True)
class HoldExpired:
    """The stage held past the policy's ``max_hold``: page again, or halt (never pass)."""

    stage: int
    reason: str


@dataclass(frozen=True)
class Complete:
    pass


@dataclass(frozen=True)
class FinishRollback:
    pass


@dataclass(frozen=True)
class Wait:
    reason: str
    until: datetime | None = None


Action = (
    Reconcile
    | BeginStage
    | Deploy
    | StartBaking
    | PassStage
    | FailStage
    | RollBack
    | Halt
    | Alert
    | HoldExpired
    | Complete
    | FinishRollback
    | Wait
)


def _ready(units: Sequence[UnitView], now: datetime) -> list[UnitView]:
    return [
        u
        for u in units
        if u.status == UnitStatus.PENDING and (u.retry_at is None or u.retry_at <= now)
    ]


def _earliest_retry(units: Sequence[UnitView]) -> datetime | None:
    times = [u.retry_at for u in units if u.retry_at]
    return min(times) if times else None


def _deploying(view: RolloutView, stage: StageView, now: datetime) -> list[Action]:
    if stage.verdict == VerdictKind.FAIL:  # the gate watches from the first unit deployed
        return [FailStage(stage.index, stage.verdict_reason)]
    units = [u for u in view.units if u.stage == stage.index]
    failed = [u.id for u in units if u.status == UnitStatus.FAILED]
    if failed:
        return [Halt(f"unit {failed[0]} could not be deployed; the stage is halted")]
    if all(u.status == UnitStatus.DEPLOYED for u in units):
        return [StartBaking(stage.index)]
    ready = _ready(units, now)[: view.policy.max_parallel_units]
    if ready:
        return [Deploy(tuple(u.id for u in ready))]
    return [Wait("retrying a deployment", _earliest_retry(units))]


def _baking(view: RolloutView, stage: StageView, now: datetime) -> list[Action]:
    bake = view.policy.stage_rules(stage.kind).bake
    assert stage.baking_since is not None
    if stage.verdict == VerdictKind.FAIL:
        return [FailStage(stage.index, stage.verdict_reason)]
    if stage.verdict == VerdictKind.PASS and now >= stage.baking_since + bake:
        return [PassStage(stage.index, stage.verdict_reason)]
    if stage.holding_since is None:
        return []
    # The hold clock runs from when the gate stopped deciding, the bake's end, or a person's
    # extension, whichever is latest.
    since = max(
        stage.holding_since, stage.baking_since + bake, stage.extended_until or stage.holding_since
    )
    rules = view.policy.gates
    held = f"the gate has had no verdict for long: {stage.verdict_reason}"
    if not stage.max_hold_reached and now >= since + rules.max_hold:
        return [HoldExpired(stage.index, held)]
    if not stage.alerted and now >= since + rules.hold_alert_after:
        return [Alert(stage.index, held)]
    return []


def _stage(view: RolloutView, stage: StageView, now: datetime) -> tuple[list[Action], bool]:
    """One unfinished stage's actions, and whether the stages after it must wait."""
    if stage.status == StageStatus.PENDING:
        return [BeginStage(stage.index)], True
    if stage.status == StageStatus.DEPLOYING:
        return _deploying(view, stage, now), True
    if stage.status == StageStatus.FAILED:
        return [Halt(f"stage {stage.index + 1} failed")], True
    actions = _baking(view, stage, now)
    if any(isinstance(a, FailStage | PassStage) for a in actions):
        return actions, True
    rules = view.policy.stage_rules(stage.kind)
    bake, mode = rules.bake, rules.gate
    if mode == GateMode.WATCH:
        return actions, False  # watched only: the next stage may begin while this one bakes
    assert stage.baking_since is not None
    until = stage.baking_since + bake
    return [
        *actions,
        Wait(f"stage {stage.index + 1} is baking", until if until > now else None),
    ], True


def _running(view: RolloutView, now: datetime) -> list[Action]:
    actions: list[Action] = []
    for stage in view.stages:
        if stage.status == StageStatus.PASSED:
            continue
        more, blocking = _stage(view, stage, now)
        actions += more
        if blocking:
            return actions
    if all(stage.status == StageStatus.PASSED for stage in view.stages):
        return [Complete()]
    return [*actions, Wait("the stages are baking")]


def _roll_back(units: Sequence[UnitView], now: datetime, limit: int) -> list[Action]:
    due = [
        u
        for u in units
        if u.status in {UnitStatus.DEPLOYED, UnitStatus.FAILED}
        and (u.retry_at is None or u.retry_at <= now)
    ]
    if due:
        return [RollBack(tuple(u.id for u in due[:limit]))]
    return []


def _halted(view: RolloutView, now: datetime) -> list[Action]:
    failed = {s.index for s in view.stages if s.status == StageStatus.FAILED}
    units = [u for u in view.units if u.stage in failed]
    # Nothing more until someone resumes, rolls back or aborts.
    return _roll_back(units, now, view.policy.max_parallel_units)


def _rolling_back(view: RolloutView, now: datetime) -> list[Action]:
    actions = _roll_back(view.units, now, view.policy.max_parallel_units)
    if actions:
        return actions
    if any(u.status in {UnitStatus.DEPLOYED, UnitStatus.FAILED} for u in view.units):
        return [Wait("retrying a rollback", _earliest_retry(view.units))]
    if any(u.status == UnitStatus.ROLLBACK_FAILED for u in view.units):
        return []  # alerted; someone must fix the unit and roll back again
    return [FinishRollback()]


MOVING = frozenset({UnitStatus.DEPLOYING, UnitStatus.ROLLING_BACK})  # built once: decide
# reads every unit at every look, 10,000 of them in a large rollout


def decide(view: RolloutView, now: datetime) -> list[Action]:
    """The next actions: a ``Wait`` when there is nothing to do now, nothing at all when the
    rollout needs no more looks until someone operates it."""
    stuck = tuple(u.id for u in view.units if u.status in MOVING)
    if stuck:
        return [Reconcile(stuck)]
    steps = {
        RolloutStatus.RUNNING: _running,
        RolloutStatus.HALTED: _halted,
        RolloutStatus.ROLLING_BACK: _rolling_back,
    }
    step = steps.get(view.status)
    return step(view, now) if step else []


def possible_operations(status: str, *, gate_failed: bool, service_busy: bool) -> list[str]:
    """The operations that can succeed on a rollout now, in the order the page offers them: a
    halted rollout whose gate failed cannot resume (roll it back or abort it), and a completed
    one cannot roll back while another rollout of its service is active. ``operations``
    refuses the same cases with the reason."""
    offered: dict[str, bool] = {
        "approve": status == RolloutStatus.AWAITING_APPROVAL,
        "reject": status == RolloutStatus.AWAITING_APPROVAL,
        "pause": status == RolloutStatus.RUNNING,
        "resume": status == RolloutStatus.PAUSED
        or (status == RolloutStatus.HALTED and not gate_failed),
        "rollback": status
        in {
            RolloutStatus.RUNNING,
            RolloutStatus.PAUSED,
            RolloutStatus.HALTED,
            RolloutStatus.ROLLING_BACK,
        }
        or (status == RolloutStatus.COMPLETED and not service_busy),
        "abort": status in ACTIVE,
    }
    return [name for name, allowed in offered.items() if allowed]
