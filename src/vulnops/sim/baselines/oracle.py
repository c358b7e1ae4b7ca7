"""The oracle lower bound (pure): a judge that knows the true effect of the release in advance
and needs only the evidence a fixed-sample test of that known effect needs, at the policy's
alpha. It passes a good stage as soon as that many requests show the error ratio is below the
margin (and the minimum bake, which ``decide`` enforces, is over); it fails a bad stage as soon
as the affected updated units served enough requests to show the known regression. No real
policy can be quicker with the same deployments and bakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from scipy.special import ndtri

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import Frame
from vulnops.sim.judging import Judgement
from vulnops.sim.model import BASE_ERROR_RATE, Fault


def requests_needed(ratio: float, alpha: float, error_rate: float = BASE_ERROR_RATE) -> float:
    """Requests a one-sided fixed-sample test of a known rate ratio needs (power one half):
    (ratio - 1)*sqrt(p*n) reaches the normal quantile of 1 - alpha."""
    z = float(ndtri(1 - alpha))
    return (z / abs(ratio - 1)) ** 2 / error_rate


@dataclass
class OracleJudge:
    rules: GateRules
    fault: Fault | None
    affected: frozenset[int]
    step: timedelta = timedelta(minutes=1)
    needs_baseline: bool = False
    baseline_cluster: bool = False
    served: float = 0.0  # by updated units
    served_affected: float = 0.0
    crashes_affected: float = 0.0
    judged: Judgement = field(default_factory=lambda: Judgement(VerdictKind.PENDING, "deploying"))

    def start(self, baseline: Sequence[Frame]) -> None:
        """The oracle needs no baseline: it knows."""

    def observe(self, frame: Frame) -> None:
        if self.judged.kind == VerdictKind.FAIL:
            return
        updated = frame.updated
        hit = np.isin(updated.units, np.fromiter(self.affected, dtype=np.int64))
        self.served += float(updated.requests.sum())
        self.served_affected += float(updated.requests[hit].sum())
        self.crashes_affected += float(updated.crashes[hit].sum())
        fault = self.fault
        if fault is not None and self.served_affected > 0:
            if fault.latency_multiplier != 1.0:
                self.judged = Judgement(VerdictKind.FAIL, "latency, known")
                return
            if fault.error_multiplier != 1.0 and self.served_affected >= requests_needed(
                fault.error_multiplier, self.rules.alpha
            ):
                self.judged = Judgement(VerdictKind.FAIL, "errors, known")
                return
            if fault.crash_after is not None and self.crashes_affected >= 1:
                self.judged = Judgement(VerdictKind.FAIL, "crashes, known")
                return
        if fault is not None and self.served_affected > 0:
            return  # it knows the stage is bad: it waits for the evidence, never passes
        if self.served >= requests_needed(self.rules.error_margin, self.rules.alpha):
            self.judged = Judgement(VerdictKind.PASS, "shown below the margin")

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        return self.judged
