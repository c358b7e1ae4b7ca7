"""What judges a stage in the rollout benchmark: the interface every policy's analysis
implements, and vulnops' own sequential gate behind it (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from vulnops.rollout import gates
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import Frame


@dataclass(frozen=True)
class Judgement:
    kind: VerdictKind
    reason: str


class Judge(Protocol):
    """One stage's analysis. The runner feeds it one window of ``step`` at a time — the stage's
    updated units and, as control, the units not updated yet (or, for a judge that wants a
    ``baseline_cluster``, a twin of each updated unit running the old release) — and asks for
    its verdict after each; the rollout's ``decide`` passes the stage on PASS once the policy's
    bake is over, and fails it on FAIL. A judge that ``needs_baseline`` is started with the
    windows before the stage began (the stage's units and the control)."""

    @property
    def step(self) -> timedelta: ...

    @property
    def needs_baseline(self) -> bool: ...

    @property
    def baseline_cluster(self) -> bool: ...

    def start(self, baseline: Sequence[Frame]) -> None: ...

    def observe(self, frame: Frame) -> None: ...

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement: ...


class SequentialGate:
    """vulnops' gate: the e-processes of ``rollout.gates``, exactly as the controller runs them."""

    needs_baseline = True
    baseline_cluster = False

    def __init__(self, rules: GateRules) -> None:
        self.rules = rules
        self.step = rules.interval
        self.state: gates.GateState | None = None

    def start(self, baseline: Sequence[Frame]) -> None:
        self.state = gates.start(baseline, self.rules)

    def observe(self, frame: Frame) -> None:
        assert self.state is not None, "start first"
        self.state = gates.update(self.state, frame, self.rules)

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        assert self.state is not None, "start first"
        found = gates.verdict(self.state, self.rules, baked=baked, has_control=has_control)
        return Judgement(found.kind, found.reason)
