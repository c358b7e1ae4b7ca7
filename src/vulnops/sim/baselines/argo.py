"""An Argo Rollouts-style analysis (pure): during each step's pause, a measurement every
``interval`` of the updated units against their own rates before the update (an
``AnalysisTemplate`` whose Prometheus query divides the canary's error rate by the same pods'
rate an ``offset`` earlier; ``successCondition: result < limit``); the analysis fails once more
measurements failed than ``failure_limit`` allows, or once more than ``consecutive_error_limit``
measurements in a row could not be taken (no data). Otherwise the step passes when its pause is
over. The limits are tuned on good fixes to about 1% false halts, like the fixed bakes'."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Frame
from vulnops.sim.baselines.own_history import History, Limits, Worst, gather
from vulnops.sim.judging import Judgement


@dataclass
class ArgoAnalysis:
    limits: Limits = field(default_factory=Limits)
    worst: Worst = field(default_factory=Worst)
    interval: timedelta = timedelta(minutes=5)
    failure_limit: int = 0  # Argo's default
    consecutive_error_limit: int = 4  # Argo's default
    needs_baseline: bool = True
    baseline_cluster: bool = False
    history: History = field(default_factory=History)
    failures: int = 0
    errors_in_a_row: int = 0
    measured: int = 0
    judged: Judgement = field(default_factory=lambda: Judgement(VerdictKind.PENDING, "measuring"))

    @property
    def step(self) -> timedelta:
        return self.interval

    def start(self, baseline: Sequence[Frame]) -> None:
        self.history.record(baseline)

    def observe(self, frame: Frame) -> None:
        if self.judged.kind == VerdictKind.FAIL:
            return
        ratios = self.history.ratios(gather({}, frame.updated))
        if ratios is None:
            self.errors_in_a_row += 1
            if self.errors_in_a_row > self.consecutive_error_limit:
                self.judged = Judgement(VerdictKind.FAIL, "consecutive measurement errors")
            return
        self.errors_in_a_row = 0
        self.measured += 1
        self.worst.note(ratios)
        failed = ratios.failed(self.limits)
        if failed:
            self.failures += 1
            if self.failures > self.failure_limit:
                self.judged = Judgement(
                    VerdictKind.FAIL, "measurement failed: " + ", ".join(failed)
                )
                return
        self.judged = Judgement(VerdictKind.PASS, f"{self.measured} measurements successful")

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        return self.judged
