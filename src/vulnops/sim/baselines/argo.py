"""An Argo Rollouts-style analysis (pure): during each step's pause, a measurement every
``interval`` of the updated units against fixed thresholds (``successCondition``); the analysis
fails once more measurements failed than ``failure_limit`` allows, or once more than
``consecutive_error_limit`` measurements in a row could not be taken (no data). Otherwise the
step passes when its pause is over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Window
from vulnops.sim.judging import Judgement


@dataclass
class ArgoAnalysis:
    interval: timedelta = timedelta(minutes=5)
    failure_limit: int = 0
    consecutive_error_limit: int = 4
    max_error_rate: float = 0.01  # successCondition: result < 0.01 (an SLO of 99%)
    max_latency_ms: float = 150.0
    max_crash_rate: float = 1e-5
    needs_baseline: bool = False
    failures: int = 0
    errors_in_a_row: int = 0
    measured: int = 0
    judged: Judgement = field(default_factory=lambda: Judgement(VerdictKind.PENDING, "measuring"))

    @property
    def step(self) -> timedelta:
        return self.interval

    def start(self, baseline: Sequence[Window]) -> None:
        """The analysis template reads only the canary's own metrics."""

    def observe(self, window: Window) -> None:
        if self.judged.kind == VerdictKind.FAIL:
            return
        samples = list(window.updated.values())
        requests = sum(s.requests for s in samples)
        if requests <= 0:
            self.errors_in_a_row += 1
            if self.errors_in_a_row > self.consecutive_error_limit:
                self.judged = Judgement(VerdictKind.FAIL, "consecutive measurement errors")
            return
        self.errors_in_a_row = 0
        self.measured += 1
        error_rate = sum(s.errors for s in samples) / requests
        latency = sum(s.requests * (s.latency_ms or 0.0) for s in samples) / requests
        crash_rate = sum(s.crashes for s in samples) / requests
        failed = [
            name
            for name, value, limit in (
                ("error rate", error_rate, self.max_error_rate),
                ("latency", latency, self.max_latency_ms),
                ("crash rate", crash_rate, self.max_crash_rate),
            )
            if value >= limit
        ]
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
