"""A fixed bake (pure): each stage waits a fixed time, then one check of the updated units against
their own health before the update, over the whole bake — the way large clouds describe their
safe deployment (e.g. 24 hours between production phases) with the before/after health check
their deployment systems run. Nothing is looked at before the bake is over. The limits are
tuned on good fixes to about 1% false halts (``vulnops.sim.tuning``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Frame
from vulnops.sim.baselines.own_history import History, Limits, Totals, Worst, gather
from vulnops.sim.judging import Judgement


@dataclass
class FixedBake:
    limits: Limits = field(default_factory=Limits)
    worst: Worst = field(default_factory=Worst)
    step: timedelta = timedelta(minutes=10)
    needs_baseline: bool = True
    baseline_cluster: bool = False
    history: History = field(default_factory=History)
    served: dict[int, Totals] = field(default_factory=dict)

    def start(self, baseline: Sequence[Frame]) -> None:
        self.history.record(baseline)

    def observe(self, frame: Frame) -> None:
        gather(self.served, frame.updated)

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        if not baked:
            return Judgement(VerdictKind.PENDING, "baking")
        ratios = self.history.ratios(self.served)
        if ratios is None:
            return Judgement(VerdictKind.HOLD, "no traffic on the updated units")
        self.worst.note(ratios)
        failed = ratios.failed(self.limits)
        if failed:
            return Judgement(VerdictKind.FAIL, "above the threshold: " + ", ".join(failed))
        return Judgement(VerdictKind.PASS, "within the thresholds")
