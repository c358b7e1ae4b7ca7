"""Each updated unit against its own health before the update (pure): what the fixed bakes and
the Argo-style analysis compare, as their users set them up — a threshold on "the new release's
error rate over the same units' rate before it", the PromQL ``offset`` query of an Argo
``AnalysisTemplate`` or a deployment system's before/after health check.

A unit's own history takes out what differs between units (their error rates and latencies are
spread around the fleet's), which a comparison with the units not updated yet cannot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from vulnops.rollout.samples import Columns, Frame

# requests, errors, crashes, latency x requests
Totals = tuple[float, float, float, float]
NOTHING: Totals = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Limits:
    """A check fails when the updated units' error rate or latency exceeds ``ratio x`` their own
    earlier one. Crashes are too rare for a unit's own rate (a canary's half hour before the
    update sees a tenth of one): they fail on an absolute rate, as a crash SLO would, once
    there are ``min_crashes``. Infinite ratios never fail: the benchmark runs good fixes so to
    record the worst ratios, from which it sets the limits."""

    error_ratio: float = math.inf
    latency_ratio: float = math.inf
    max_crash_rate: float = 1e-6  # per request: ten times the fleet's usual rate
    min_crashes: float = 5.0


@dataclass(frozen=True)
class Ratios:
    """The updated units over their own history: observed / expected from their earlier rates."""

    error: float
    latency: float
    crashes: float
    requests: float

    def failed(self, limits: Limits) -> list[str]:
        crashing = self.crashes >= limits.min_crashes
        checks = (
            ("error rate", self.error > limits.error_ratio),
            ("latency", self.latency > limits.latency_ratio),
            ("crash rate", crashing and self.crashes > limits.max_crash_rate * self.requests),
        )
        return [name for name, failed in checks if failed]


def gather(into: dict[int, Totals], group: Columns) -> dict[int, Totals]:
    """``into`` with each unit's samples of ``group`` added to its totals."""
    weighted = group.requests * np.nan_to_num(group.latency_ms)
    for unit, requests, errors, crashes, latency in zip(
        group.units.tolist(),
        group.requests.tolist(),
        group.errors.tolist(),
        group.crashes.tolist(),
        weighted.tolist(),
        strict=True,
    ):
        before = into.get(unit, NOTHING)
        into[unit] = (
            before[0] + requests,
            before[1] + errors,
            before[2] + crashes,
            before[3] + latency,
        )
    return into


@dataclass
class History:
    """Per unit, what it served before the stage began."""

    units: dict[int, Totals] = field(default_factory=dict)

    def record(self, frames: Iterable[Frame]) -> None:
        for frame in frames:
            gather(self.units, frame.updated)

    def ratios(self, served: Mapping[int, Totals]) -> Ratios | None:
        """``served`` per unit over the period checked; None when the units served nothing.
        A unit with no history of its own is held to the others' pooled rates."""
        pooled = [sum(t[k] for t in self.units.values()) for k in range(4)]
        errors = expected_errors = crashes = served_requests = 0.0
        weighted = expected_weighted = 0.0
        for unit, (requests, unit_errors, unit_crashes, unit_weighted) in served.items():
            if requests <= 0:
                continue
            before = self.units.get(unit, NOTHING)
            base = before if before[0] > 0 else pooled
            if base[0] <= 0:
                continue
            errors += unit_errors
            expected_errors += requests * base[1] / base[0]
            crashes += unit_crashes
            served_requests += requests
            weighted += unit_weighted
            expected_weighted += requests * base[3] / base[0]
        if expected_weighted <= 0:
            return None
        return Ratios(
            error=errors / max(expected_errors, 1.0),
            latency=weighted / expected_weighted,
            crashes=crashes,
            requests=served_requests,
        )


@dataclass
class Worst:
    """The worst ratios a run's checks saw: a good run with limits L halts exactly when one of
    them exceeds its limit (until then its path is the same whatever L), so the benchmark sets
    the limits from the worst ratios of good runs made with infinite limits."""

    error: float = 0.0
    latency: float = 0.0

    def note(self, ratios: Ratios) -> None:
        self.error = max(self.error, ratios.error)
        self.latency = max(self.latency, ratios.latency)

    def halts(self, limits: Limits) -> bool:
        return self.error > limits.error_ratio or self.latency > limits.latency_ratio
