"""A rollout in virtual time, in memory (pure): the real ``plan`` and ``decide`` with a policy's
judge, on a ``VirtualFleet``. What the rollout benchmark runs thousands of times.

It does what the controller does, minus the database and the backend: ``decide``, carry the
actions out, look again. Deploying a batch blocks (as the controller waits for its backend) and
takes each unit a few minutes; windows keep being drawn meanwhile, so the traffic the new release
serves is counted to the second. A stage that fails is rolled back by ``decide``; then, as an
operator would, the whole rollout is rolled back, and the exposure ends when the last unit runs
the old release again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from vulnops.rollout import decide as d
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.plan import Plan
from vulnops.rollout.policy import Policy
from vulnops.rollout.samples import Columns, Frame, Ids
from vulnops.sim.judging import Judge
from vulnops.sim.model import Fault
from vulnops.sim.virtual import NEVER, Draw, VirtualFleet

NOTHING = Columns.empty()
HORIZON = timedelta(days=7)  # a bad release nobody caught serves until then
DEPLOY_MINUTES = 4.0  # median time to deploy one unit
DEPLOY_SPREAD = 0.3
BASELINE_WINDOWS = 30
MAX_DECISIONS = 200_000


@dataclass(frozen=True)
class Strategy:
    """A rollout policy under test: the stages' rules and the analysis that judges them."""

    name: str
    policy: Policy
    judge: Callable[[], Judge]


@dataclass(frozen=True)
class Outcome:
    completed: bool  # every unit runs the release
    hours: float  # until completed, or until rolled back, or the horizon
    halted_stage: int | None  # the stage that failed, if any
    halted_kind: str | None
    halted_hours: float | None
    exposure: float  # requests the faulty release served where it is faulty / one day's traffic
    reason: str


class Run:
    def __init__(
        self,
        fleet: VirtualFleet,
        plan: Plan,
        strategy: Strategy,
        *,
        fault: Fault | None,
        start: datetime,
        rng: np.random.Generator,
    ) -> None:
        self.fleet, self.plan, self.strategy = fleet, plan, strategy
        self.policy = strategy.policy
        self.fault, self.start, self.rng = fault, start, rng
        self.now = start
        self.affected = fleet.affected(fault)
        n = fleet.size
        self.new_since = np.full(n, NEVER)
        self.new_until = np.full(n, NEVER)
        self.recorded = np.full(n, NEVER)  # when the controller recorded the unit deployed
        self.stage_of = plan.stage_of()
        self.stage_index = np.full(n, len(plan.stages))  # a unit in no stage is never looked at
        for unit, stage_number in self.stage_of.items():
            self.stage_index[unit] = stage_number
        self.deployed = np.zeros(n, dtype=bool)
        self.pending = np.zeros(n, dtype=bool)
        self.pending[list(self.stage_of)] = True
        self.status = d.RolloutStatus.RUNNING
        self.units = {
            unit: d.UnitView(id=unit, stage=stage, status=d.UnitStatus.PENDING)
            for unit, stage in self.stage_of.items()
        }
        self.stages = [
            d.StageView(index=s.index, kind=s.kind, status=d.StageStatus.PENDING)
            for s in plan.stages
        ]
        self.judges: dict[int, Judge] = {}
        self.begun: dict[int, datetime] = {}
        self.step = strategy.judge().step
        self.next_window = start + self.step
        self.harm = 0.0
        self.halt: tuple[int, str, datetime, str] | None = None

    # --- time ---------------------------------------------------------------------------------

    def _advance(self, until: datetime) -> None:
        while self.next_window <= until:
            begin = self.next_window - self.step
            draw = self.fleet.draw(
                begin,
                self.next_window,
                new_since=self.new_since,
                new_until=self.new_until,
                fault=self.fault,
                affected=self.affected,
            )
            self.harm += float(draw.harmful_requests.sum())
            for stage in self.stages:
                watched = stage.status in {d.StageStatus.DEPLOYING, d.StageStatus.BAKING}
                if watched and self.begun[stage.index] <= begin:
                    self._look(stage, draw, begin)
            self.next_window += self.step
        self.now = max(self.now, until)

    def _look(self, stage: d.StageView, draw: Draw, begin: datetime) -> None:
        # As observe.groups: this stage's and the earlier stages' units, deployed before the
        # window began; the control is the units of this stage and later ones not updated yet.
        updated = np.flatnonzero(
            (self.stage_index <= stage.index) & self.deployed & (self.recorded <= begin.timestamp())
        )
        judge = self.judges[stage.index]
        if judge.baseline_cluster:
            twins = self.fleet.old_release(begin, begin + self.step, updated)
            frame = Frame(draw.columns(updated), twins, NOTHING)
        else:
            frame = Frame(draw.columns(updated), draw.columns(self._control(stage.index)), NOTHING)
        judge.observe(frame)
        bake = self.policy.stage_rules(stage.kind).bake
        end = begin + self.step
        baked = stage.baking_since is not None and end >= stage.baking_since + bake
        found = judge.verdict(baked=baked, has_control=len(frame.control) > 0)
        undecided = found.kind in {VerdictKind.HOLD, VerdictKind.PENDING}
        self.stages[stage.index] = replace(
            stage,
            verdict=found.kind,
            verdict_reason=found.reason,
            holding_since=(stage.holding_since or end) if undecided else None,
        )

    def _control(self, index: int) -> Ids:
        return np.flatnonzero((self.stage_index >= index) & self.pending)

    # --- actions -----------------------------------------------------------------------------

    def _set(self, unit_ids: Sequence[int], status: d.UnitStatus) -> None:
        for unit in unit_ids:
            self.units[unit] = replace(self.units[unit], status=status)
        ids = np.asarray(unit_ids, dtype=int)
        self.deployed[ids] = status == d.UnitStatus.DEPLOYED
        self.pending[ids] = status == d.UnitStatus.PENDING

    def _change(self, unit_ids: Sequence[int], *, deploy: bool) -> None:
        ids = np.asarray(unit_ids, dtype=int)
        minutes = DEPLOY_MINUTES * self.rng.lognormal(0, DEPLOY_SPREAD, ids.size)
        done = self.now.timestamp() + minutes * 60
        if deploy:
            self._set(unit_ids, d.UnitStatus.DEPLOYING)
            self.new_since[ids] = done
        else:
            self._set(unit_ids, d.UnitStatus.ROLLING_BACK)
            self.new_until[ids] = np.minimum(self.new_until[ids], done)
        self._advance(self.now + timedelta(minutes=float(minutes.max())))
        if deploy:
            self.recorded[ids] = self.now.timestamp()
        self._set(unit_ids, d.UnitStatus.DEPLOYED if deploy else d.UnitStatus.ROLLED_BACK)

    def _begin(self, index: int) -> None:
        judge = self.strategy.judge()
        if judge.needs_baseline:
            rules = self.policy.gates
            pieces = max(1, min(BASELINE_WINDOWS, round(rules.baseline / rules.interval)))
            width = rules.baseline / pieces
            members = np.flatnonzero(
                (self.stage_index == index) | ((self.stage_index < index) & self.deployed)
            )
            control = self._control(index + 1)
            windows = []
            for piece in range(pieces):
                begin = self.now - rules.baseline + width * piece
                draw = self.fleet.draw(
                    begin,
                    begin + width,
                    new_since=self.new_since,
                    new_until=self.new_until,
                    fault=self.fault,
                    affected=self.affected,
                )
                windows.append(Frame(draw.columns(members), draw.columns(control), NOTHING))
            judge.start(windows)
        else:
            judge.start([])
        self.judges[index] = judge
        self.begun[index] = self.now
        self.stages[index] = replace(self.stages[index], status=d.StageStatus.DEPLOYING)

    def _apply(self, action: d.Action) -> None:
        if isinstance(action, d.Deploy | d.RollBack):
            self._change(action.unit_ids, deploy=isinstance(action, d.Deploy))
        elif isinstance(action, d.BeginStage):
            self._begin(action.stage)
        elif isinstance(action, d.StartBaking | d.PassStage | d.FailStage | d.Alert):
            self._stage_action(action)
        elif isinstance(action, d.HoldExpired):
            # Paged again (nobody answers in the simulator: the stage goes on holding), or
            # halted, as the policy says.
            stage = self.stages[action.stage]
            self.stages[action.stage] = replace(stage, max_hold_reached=True)
            if self.policy.gates.on_max_hold == "halt":
                self.status = d.RolloutStatus.HALTED
                self.halt = (stage.index, stage.kind.value, self.now, action.reason)
        elif isinstance(action, d.Complete):
            self.status = d.RolloutStatus.COMPLETED
        elif isinstance(action, d.FinishRollback):
            self.status = d.RolloutStatus.ROLLED_BACK
        elif isinstance(action, d.Halt):
            self.status = d.RolloutStatus.HALTED
        else:  # Reconcile: nothing dies here
            raise AssertionError(f"unexpected {action}")

    def _stage_action(self, action: d.StartBaking | d.PassStage | d.FailStage | d.Alert) -> None:
        stage = self.stages[action.stage]
        if isinstance(action, d.StartBaking):
            self.stages[action.stage] = replace(
                stage, status=d.StageStatus.BAKING, baking_since=self.now
            )
        elif isinstance(action, d.PassStage):
            self.stages[action.stage] = replace(stage, status=d.StageStatus.PASSED)
        elif isinstance(action, d.FailStage):
            self.stages[action.stage] = replace(stage, status=d.StageStatus.FAILED)
            self.status = d.RolloutStatus.HALTED
            self.halt = (stage.index, stage.kind.value, self.now, action.reason)
        else:
            self.stages[action.stage] = replace(stage, alerted=True)

    # --- the loop ----------------------------------------------------------------------------

    def _view(self) -> d.RolloutView:
        return d.RolloutView(
            status=self.status,
            policy=self.policy,
            stages=list(self.stages),
            units=list(self.units.values()),
        )

    def run(self) -> Outcome:
        horizon = self.start + HORIZON
        for _ in range(MAX_DECISIONS):
            if self.now >= horizon:
                break
            actions = d.decide(self._view(), self.now)
            if not actions:
                if self.status == d.RolloutStatus.HALTED:
                    self.status = d.RolloutStatus.ROLLING_BACK  # the operator rolls it all back
                    continue
                break
            todo = [a for a in actions if not isinstance(a, d.Wait)]
            if todo:
                for action in todo:
                    self._apply(action)
                continue
            due = [a.until for a in actions if isinstance(a, d.Wait) and a.until is not None]
            self._advance(min([*due, self.next_window]))
        return self._outcome(horizon)

    def _outcome(self, horizon: datetime) -> Outcome:
        completed = self.status == d.RolloutStatus.COMPLETED
        harm = self.harm
        if completed and self.fault is not None:
            # Every unit runs the release until the horizon: its affected traffic, on average.
            affected_share = float(self.fleet.traffic[self.affected].sum())
            rest = max((horizon - self.now).total_seconds(), 0.0)
            harm += affected_share * self.fleet.requests_per_second * rest
        day = self.fleet.requests_per_second * 86_400
        halt = self.halt
        return Outcome(
            completed=completed,
            hours=(self.now - self.start) / timedelta(hours=1),
            halted_stage=halt[0] if halt else None,
            halted_kind=halt[1] if halt else None,
            halted_hours=(halt[2] - self.start) / timedelta(hours=1) if halt else None,
            exposure=harm / day,
            reason=halt[3] if halt else ("completed" if completed else self.status.value),
        )


def simulate(
    fleet: VirtualFleet,
    plan: Plan,
    strategy: Strategy,
    *,
    fault: Fault | None,
    start: datetime,
    seed: int,
) -> Outcome:
    rng = np.random.default_rng([seed, 99])
    return Run(fleet, plan, strategy, fault=fault, start=start, rng=rng).run()
