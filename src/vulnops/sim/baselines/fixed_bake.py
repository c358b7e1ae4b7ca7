"""A fixed bake (pure): each stage waits a fixed time, then one threshold check of the updated
units against the units not updated yet over the whole bake — the way large clouds describe
their safe deployment (e.g. 24 hours between production phases). Nothing is looked at before
the bake is over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import UnitSample, Window
from vulnops.sim.judging import Judgement

Totals = tuple[float, float, float, float]  # requests, errors, crashes, latency x requests


def _totals(samples: Sequence[UnitSample]) -> Totals:
    return (
        sum(s.requests for s in samples),
        sum(s.errors for s in samples),
        sum(s.crashes for s in samples),
        sum(s.requests * (s.latency_ms or 0.0) for s in samples),
    )


@dataclass
class FixedBake:
    step: timedelta = timedelta(minutes=10)
    max_error_ratio: float = 1.5
    max_latency_ratio: float = 1.25
    max_crash_ratio: float = 3.0
    min_crashes: float = 5.0  # fewer crashes are noise, whatever their rate
    needs_baseline: bool = False
    updated: Totals = (0.0, 0.0, 0.0, 0.0)
    control: Totals = (0.0, 0.0, 0.0, 0.0)

    def start(self, baseline: Sequence[Window]) -> None:
        """A fixed bake compares only what the stage served."""

    def observe(self, window: Window) -> None:
        for name, samples in (("updated", window.updated), ("control", window.control)):
            now = _totals(list(samples.values()))
            before = getattr(self, name)
            setattr(self, name, tuple(a + b for a, b in zip(before, now, strict=True)))

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        if not baked:
            return Judgement(VerdictKind.PENDING, "baking")
        req_u, err_u, crash_u, lat_u = self.updated
        req_c, err_c, crash_c, lat_c = self.control
        if req_u <= 0:
            return Judgement(VerdictKind.HOLD, "no traffic on the updated units")
        if req_c <= 0:
            return Judgement(VerdictKind.PASS, "nothing to compare with")
        checks = (
            ("error rate", err_u / req_u, self.max_error_ratio * err_c / req_c),
            ("latency", lat_u / req_u, self.max_latency_ratio * lat_c / req_c),
            ("crash rate", crash_u / req_u, self.max_crash_ratio * max(crash_c, 1.0) / req_c),
        )
        failed = [
            name
            for name, value, limit in checks
            if value > limit and (name != "crash rate" or crash_u >= self.min_crashes)
        ]
        if failed:
            return Judgement(VerdictKind.FAIL, "above the threshold: " + ", ".join(failed))
        return Judgement(VerdictKind.PASS, "within the thresholds")
