"""A Kayenta-style canary judge (pure), after Netflix/Spinnaker Kayenta's ``NetflixACAJudge``.

**Metric classification** (``classify``), as Kayenta's Mann-Whitney classifier does it: a
two-sided Mann-Whitney (Wilcoxon rank-sum) confidence interval for the shift between the
experiment's and the control's values, with the Hodges-Lehmann estimate; the metric is *High*
when the whole interval lies above ``tolerance x |estimate|`` (and the effect size reaches its
threshold), *Low* when below ``-tolerance x |estimate|``, else *Pass*; no values is *Nodata*.
A critical metric that is High or Low beyond its critical threshold fails the whole judgement.

**Judgement**: the score is the share of metrics that passed among those with data (equal
weights), 0 when a critical metric failed. Every ``interval`` the judge scores all the data since
the stage began; an interim score at or below ``marginal`` stops the run (fail); at the end of
the ``lifetime`` a score at or above ``pass_score`` passes, anything less fails.

The interval is the distribution-free one (order statistics of the pairwise differences with the
normal approximation of the rank-sum distribution), which is what R's ``wilcox.test(conf.int =
TRUE)`` — Kayenta's reference — computes for large samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import UnitSample, Window
from vulnops.sim.judging import Judgement

Label = Literal["High", "Low", "Pass", "Nodata"]
Direction = Literal["increase", "decrease", "either"]


@dataclass(frozen=True)
class Classification:
    label: Label
    critical: bool
    interval: tuple[float, float] | None  # (lower, upper) of the shift experiment - control
    estimate: float | None  # Hodges-Lehmann
    deviation: float  # the effect size
    reason: str | None


def _clean(values: Sequence[float], nan_strategy: str) -> NDArray[np.float64]:
    array: NDArray[np.float64] = np.asarray(values, dtype=float)
    if nan_strategy == "replace":
        return np.asarray(np.nan_to_num(array, nan=0.0), dtype=float)
    if nan_strategy == "remove":
        return np.asarray(array[~np.isnan(array)], dtype=float)
    raise ValueError(f"nan_strategy must be remove or replace, not {nan_strategy!r}")


def _effect_size(
    control: NDArray[np.float64], experiment: NDArray[np.float64], measure: str
) -> float:
    if measure == "meanRatio":
        base = float(control.mean())
        return float(experiment.mean()) / base if base != 0 else math.nan
    if measure == "cles":  # the probability that an experiment value exceeds a control value
        differences = np.subtract.outer(experiment, control)
        return float(((differences > 0).sum() + 0.5 * (differences == 0).sum()) / differences.size)
    raise ValueError(f"effect_size_measure must be meanRatio or cles, not {measure!r}")


def mann_whitney_interval(
    experiment: NDArray[np.float64], control: NDArray[np.float64], confidence: float
) -> tuple[float, float, float]:
    """(lower, upper, Hodges-Lehmann estimate) of the shift experiment - control."""
    differences = np.sort(np.subtract.outer(experiment, control), axis=None)
    m, n = experiment.size, control.size
    z = float(ndtri(1 - (1 - confidence) / 2))
    k = math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12))
    k = min(max(k, 0), differences.size - 1)
    return float(differences[k]), float(differences[-1 - k]), float(np.median(differences))


def classify(
    experiment: Sequence[float],
    control: Sequence[float],
    *,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    direction: Direction = "either",
    effect_size_measure: str = "meanRatio",
    effect_size_thresholds: tuple[float, float] = (1.0, 1.0),
    critical_thresholds: tuple[float, float] = (1.0, 1.0),
    critical: bool = False,
    data_required: bool = False,
    nan_strategy: str = "remove",
) -> Classification:
    """Classify one metric of the experiment (canary) against the control (baseline)."""
    if direction not in ("increase", "decrease", "either"):
        raise ValueError(f"direction must be increase, decrease or either, not {direction!r}")
    exp, ctl = _clean(experiment, nan_strategy), _clean(control, nan_strategy)
    if exp.size == 0 or ctl.size == 0:
        missing = "experiment" if exp.size == 0 else "control"
        return Classification(
            "Nodata", critical and data_required, None, None, 1.0, f"Missing data in the {missing}"
        )
    if np.array_equal(np.sort(exp), np.sort(ctl)):
        return Classification(
            "Pass", False, None, None, 1.0, "The experiment and control data are identical"
        )
    if np.unique(np.concatenate([exp, ctl])).size == 1:
        return Classification("Pass", False, None, None, 1.0, None)
    lower, upper, estimate = mann_whitney_interval(exp, ctl, confidence)
    deviation = _effect_size(ctl, exp, effect_size_measure)
    fence = tolerance * abs(estimate)
    low_effect, high_effect = effect_size_thresholds
    high = direction in ("increase", "either") and lower > fence and deviation >= high_effect
    low = direction in ("decrease", "either") and upper < -fence and deviation <= low_effect
    label: Label = "High" if high else "Low" if low else "Pass"
    failed_critically = critical and (
        (high and deviation >= critical_thresholds[1])
        or (low and deviation <= critical_thresholds[0])
    )
    reason = None
    if label != "Pass":
        reason = f"The metric was classified as {label}" + (
            " (Critical)" if failed_critically else ""
        )
    return Classification(label, failed_critically, (lower, upper), estimate, deviation, reason)


@dataclass(frozen=True)
class MetricConfig:
    name: str
    direction: Direction = "increase"
    critical: bool = False


METRICS = (
    MetricConfig("error_rate"),
    MetricConfig("latency_ms"),
    MetricConfig("crash_rate", critical=True),
)


def _point(samples: dict[int, UnitSample] | object) -> dict[str, float]:
    assert isinstance(samples, dict)
    requests = sum(s.requests for s in samples.values())
    if requests <= 0:
        return {metric.name: math.nan for metric in METRICS}
    latency = sum(s.requests * (s.latency_ms or 0.0) for s in samples.values()) / requests
    return {
        "error_rate": sum(s.errors for s in samples.values()) / requests,
        "latency_ms": latency,
        "crash_rate": sum(s.crashes for s in samples.values()) / requests,
    }


def _series() -> dict[str, list[float]]:
    return {metric.name: [] for metric in METRICS}


@dataclass
class KayentaJudge:
    """Judged every ``interval`` over a ``lifetime``, on one point per metric and ``step``."""

    step: timedelta = timedelta(minutes=1)
    interval: timedelta = timedelta(hours=1)
    lifetime: timedelta = timedelta(hours=3)
    pass_score: float = 95.0
    marginal: float = 75.0
    needs_baseline: bool = False
    experiment: dict[str, list[float]] = field(
        default_factory=lambda: {m.name: [] for m in METRICS}
    )
    control: dict[str, list[float]] = field(default_factory=lambda: {m.name: [] for m in METRICS})
    elapsed: timedelta = timedelta(0)
    judged: Judgement = field(default_factory=lambda: Judgement(VerdictKind.PENDING, "collecting"))

    def start(self, baseline: Sequence[Window]) -> None:
        """Kayenta reads no history before the canary."""

    def score(self) -> tuple[float | None, str]:
        results = {
            metric.name: classify(
                self.experiment[metric.name],
                self.control[metric.name],
                direction=metric.direction,
                critical=metric.critical,
            )
            for metric in METRICS
        }
        if any(result.critical for result in results.values()):
            failed = ", ".join(name for name, r in results.items() if r.critical)
            return 0.0, f"critical metric failed: {failed}"
        counted = [r for r in results.values() if r.label != "Nodata"]
        if not counted:
            return None, "no data to compare"
        score = 100 * sum(r.label == "Pass" for r in counted) / len(counted)
        flagged = ", ".join(
            f"{name} {r.label}" for name, r in results.items() if r.label in ("High", "Low")
        )
        return score, f"score {score:.0f}" + (f" ({flagged})" if flagged else "")

    def observe(self, window: Window) -> None:
        if self.judged.kind in (VerdictKind.FAIL, VerdictKind.PASS):
            return
        for target, samples in ((self.experiment, window.updated), (self.control, window.control)):
            for name, value in _point(dict(samples)).items():
                target[name].append(value)
        self.elapsed += self.step
        if self.elapsed % self.interval != timedelta(0):
            return
        score, reason = self.score()
        if score is None:  # nothing to compare with (the last stage): no analysis runs
            final = self.elapsed >= self.lifetime
            self.judged = Judgement(VerdictKind.PASS if final else VerdictKind.PENDING, reason)
        elif self.elapsed >= self.lifetime:
            kind = VerdictKind.PASS if score >= self.pass_score else VerdictKind.FAIL
            self.judged = Judgement(kind, f"final {reason}")
        elif score <= self.marginal:
            self.judged = Judgement(VerdictKind.FAIL, f"interim {reason}")
        else:
            self.judged = Judgement(VerdictKind.PENDING, f"interim {reason}")

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        return self.judged
