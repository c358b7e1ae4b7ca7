"""A Kayenta judge (pure), after Netflix/Spinnaker Kayenta's ``NetflixACAJudge``, run as its users
run it: a **baseline cluster** (the old release, as many units as the canary with the same
traffic, started with it) compared with the canary.

**Metric classification** (``classify``) is Kayenta's ``MannWhitneyClassifier``, checked against
the cases of Kayenta's own ``ClassifierSuite`` and ``MannWhitneySuite``: the Mann-Whitney interval
and Hodges-Lehmann estimate of the shift canary - baseline (``mann_whitney.interval``, as Kayenta
and R compute them); *High* when the whole interval lies above ``tolerance x |estimate|`` and the
effect size reaches its threshold, *Low* when below ``-tolerance x |estimate|``; an effect size
that cannot be computed (a mean of zero) is ignored, not failed; Gaussian noise of 1e-5 of the
value where both sides are constant; missing data is *Nodata* (critical for a critical metric,
*NodataFailMetric* for a metric that must have data) with ``nanStrategy=remove`` and *Pass* with
``replace``; a classification that raises is *Error*.

**Scoring** is Kayenta's ``WeightedSumScorer`` with every metric in one group: 0 when a critical
metric did not pass or when half the metrics or more had no data; otherwise the share of
metrics that passed among High, Low, Pass and NodataFailMetric, rounded to 2 decimals. Every
``interval`` the judge scores all the data since the stage began (Spinnaker's canary analysis
stage without a lookback window); an interim score at or below ``marginal`` stops the run (fail);
at the end of the ``lifetime`` a score at or above ``pass_score`` passes, anything less fails.
The defaults are those of the Spinnaker UI and of ``NetflixACAJudge``: pass 95, marginal 75,
tolerance 0.25 at 98% confidence, one point per metric and minute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Columns, Frame
from vulnops.sim.baselines import mann_whitney
from vulnops.sim.judging import Judgement

Label = Literal["High", "Low", "Pass", "Nodata", "NodataFailMetric", "Error"]
Direction = Literal["increase", "decrease", "either"]
NOISE_SCALE = 1e-5
NOISE_SEED = 20171  # Kayenta draws the noise at random; a fixed seed keeps runs reproducible
NODATA_THRESHOLD = 50.0


@dataclass(frozen=True)
class Classification:
    label: Label
    critical: bool
    interval: tuple[float, float] | None  # (lower, upper) of the shift experiment - control
    estimate: float | None  # Hodges-Lehmann
    deviation: float  # the mean ratio experiment / control (NaN where a mean is zero)
    reason: str | None


def _clean(values: Sequence[float], nan_strategy: str) -> NDArray[np.float64]:
    array: NDArray[np.float64] = np.asarray(values, dtype=float)
    if nan_strategy == "replace":
        return np.asarray(np.nan_to_num(array, nan=0.0), dtype=float)
    if nan_strategy == "remove":
        return np.asarray(array[~np.isnan(array)], dtype=float)
    raise ValueError(f"nan_strategy must be remove or replace, not {nan_strategy!r}")


def mean_ratio(control: NDArray[np.float64], experiment: NDArray[np.float64]) -> float:
    base, mean = float(control.mean()), float(experiment.mean())
    return math.nan if base == 0 or mean == 0 else mean / base


def cles(control: NDArray[np.float64], experiment: NDArray[np.float64]) -> float:
    """The common-language effect size: the share of pairs where the experiment is higher."""
    m, n = experiment.size, control.size
    ranks = rankdata(np.concatenate([experiment, control]))
    return float((2 * ranks[:m].sum() - m * (m + 1)) / (2 * n * m))


def _effect_size(
    control: NDArray[np.float64], experiment: NDArray[np.float64], measure: str
) -> float:
    if measure == "meanRatio":
        return mean_ratio(control, experiment)
    if measure == "cles":
        return cles(control, experiment)
    raise ValueError(f"effect_size_measure must be meanRatio or cles, not {measure!r}")


def _noised(values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    scale = abs(float(values[0])) * NOISE_SCALE
    return np.asarray(values + rng.normal(0.0, scale, values.size), dtype=float)


def _missing(canary: bool, nan_strategy: str, *, critical: bool, required: bool) -> Classification:
    if nan_strategy == "replace":
        return Classification("Pass", False, None, None, 1.0, None)
    reason = "Missing data in the " + ("canary" if canary else "baseline")
    if required and not critical:
        return Classification("NodataFailMetric", False, None, None, 1.0, reason)
    return Classification("Nodata", critical, None, None, 1.0, reason)


def classify(
    experiment: Sequence[float],
    control: Sequence[float],
    *,
    tolerance: float = 0.25,
    confidence: float = 0.95,
    direction: Direction = "either",
    effect_size_measure: str = "meanRatio",
    effect_size_thresholds: tuple[float, float] = (1.0, 1.0),
    critical_thresholds: tuple[float, float] = (1.0, 1.0),
    critical: bool = False,
    data_required: bool = False,
    nan_strategy: str = "remove",
) -> Classification:
    """Classify one metric of the experiment (canary) against the control (baseline). The
    defaults are those of Kayenta's ``MannWhitneyClassifier``; its judge asks for 98%."""
    if direction not in ("increase", "decrease", "either"):
        raise ValueError(f"direction must be increase, decrease or either, not {direction!r}")
    if effect_size_measure not in ("meanRatio", "cles"):
        raise ValueError(
            f"effect_size_measure must be meanRatio or cles, not {effect_size_measure!r}"
        )
    exp, ctl = _clean(experiment, nan_strategy), _clean(control, nan_strategy)
    if exp.size == 0 or ctl.size == 0:
        return _missing(exp.size == 0, nan_strategy, critical=critical, required=data_required)
    if np.array_equal(np.sort(exp), np.sort(ctl)):
        identical = "The canary and baseline data are identical"
        return Classification("Pass", False, None, None, 1.0, identical)
    if np.unique(np.concatenate([exp, ctl])).size == 1:
        return Classification("Pass", False, None, None, 1.0, None)
    if np.unique(exp).size == 1 and np.unique(ctl).size == 1:  # tied ranks: Kayenta adds noise
        rng = np.random.default_rng(NOISE_SEED)
        exp, ctl = _noised(exp, rng), _noised(ctl, rng)
    try:
        lower, upper, estimate = mann_whitney.interval(exp, ctl, confidence)
    except mann_whitney.AllTied as error:
        return Classification("Error", False, None, None, 1.0, str(error))
    deviation = mean_ratio(ctl, exp)
    effect = _effect_size(ctl, exp, effect_size_measure)
    fence = tolerance * abs(estimate)
    unknown = math.isnan(effect)  # Kayenta ignores an effect size it cannot compute
    high = (
        direction in ("increase", "either")
        and lower > fence
        and (unknown or effect >= effect_size_thresholds[1])
    )
    low = (
        direction in ("decrease", "either")
        and upper < -fence
        and (unknown or effect <= effect_size_thresholds[0])
    )
    label: Label = "High" if high else "Low" if low else "Pass"
    failed_critically = critical and (
        (high and (unknown or effect >= critical_thresholds[1]))
        or (low and (unknown or effect <= critical_thresholds[0]))
    )
    reason: str | None = None
    if label != "Pass":
        reason = f"The metric was classified as {label}" + (
            " (Critical)" if failed_critically else ""
        )
    return Classification(label, failed_critically, (lower, upper), estimate, deviation, reason)


def score(results: Mapping[str, Classification]) -> tuple[float, str]:
    """Kayenta's weighted-sum score of one group holding every metric, and why."""
    failed = [name for name, r in results.items() if r.critical and r.label != "Pass"]
    if failed:
        first = results[failed[0]]
        return 0.0, f"critical metric failed: {failed[0]} {first.label}"
    nodata = sum(r.label == "Nodata" for r in results.values())
    if results and 100 * nodata / len(results) >= NODATA_THRESHOLD:
        return 0.0, f"{NODATA_THRESHOLD:.0f}% or more metrics returned NODATA"
    counted = [
        r for r in results.values() if r.label in ("High", "Low", "Pass", "NodataFailMetric")
    ]
    value = (
        100.0
        if not counted
        else round(100 * sum(r.label == "Pass" for r in counted) / len(counted), 2)
    )
    flagged = ", ".join(
        f"{name} {r.label}" for name, r in results.items() if r.label not in ("Pass", "Nodata")
    )
    return value, f"score {value:.0f}" + (f" ({flagged})" if flagged else "")


@dataclass(frozen=True)
class MetricConfig:
    name: str
    direction: Direction = "increase"
    critical: bool = False


METRICS = (
    MetricConfig("error_percent"),
    MetricConfig("latency_ms"),
    MetricConfig("crashes_per_million", critical=True),
)


def _point(group: Columns) -> dict[str, float]:
    """One point per metric: the cluster's rates over the step (NaN when it served nothing),
    in the units its users chart them — the error rate in percent, crashes per million
    requests. The units matter: Kayenta's root finder stops at an absolute 1e-4, coarser than
    the shifts of an error rate written as a fraction (0.004), and its interval is then noise
    (a good fix failed 23 of 30 rollouts that way)."""
    requests = float(group.requests.sum())
    if requests <= 0:
        return {metric.name: math.nan for metric in METRICS}
    latency = float((group.requests * np.nan_to_num(group.latency_ms)).sum()) / requests
    return {
        "error_percent": 100 * float(group.errors.sum()) / requests,
        "latency_ms": latency,
        "crashes_per_million": 1e6 * float(group.crashes.sum()) / requests,
    }


def _series() -> dict[str, list[float]]:
    return {metric.name: [] for metric in METRICS}


@dataclass
class KayentaJudge:
    """Judged every ``interval`` over a ``lifetime``, on one point per metric and ``step``; the
    control is the baseline cluster the runner starts beside the canary."""

    step: timedelta = timedelta(minutes=1)
    interval: timedelta = timedelta(hours=1)
    lifetime: timedelta = timedelta(hours=3)
    pass_score: float = 95.0
    marginal: float = 75.0
    tolerance: float = 0.25
    confidence: float = 0.98
    needs_baseline: bool = False
    baseline_cluster: bool = True
    experiment: dict[str, list[float]] = field(default_factory=_series)
    control: dict[str, list[float]] = field(default_factory=_series)
    elapsed: timedelta = timedelta(0)
    judged: Judgement = field(default_factory=lambda: Judgement(VerdictKind.PENDING, "collecting"))

    def start(self, baseline: Sequence[Frame]) -> None:
        """Kayenta reads no history before the canary."""

    def classified(self) -> dict[str, Classification]:
        return {
            metric.name: classify(
                self.experiment[metric.name],
                self.control[metric.name],
                tolerance=self.tolerance,
                confidence=self.confidence,
                direction=metric.direction,
                critical=metric.critical,
            )
            for metric in METRICS
        }

    def observe(self, frame: Frame) -> None:
        if self.judged.kind in (VerdictKind.FAIL, VerdictKind.PASS):
            return
        for target, group in ((self.experiment, frame.updated), (self.control, frame.control)):
            for name, value in _point(group).items():
                target[name].append(value)
        self.elapsed += self.step
        if self.elapsed % self.interval != timedelta(0):
            return
        value, reason = score(self.classified())
        if self.elapsed >= self.lifetime:
            kind = VerdictKind.PASS if value >= self.pass_score else VerdictKind.FAIL
            self.judged = Judgement(kind, f"final {reason}")
        elif value <= self.marginal:
            self.judged = Judgement(VerdictKind.FAIL, f"interim {reason}")
        else:
            self.judged = Judgement(VerdictKind.PENDING, f"interim {reason}")

    def verdict(self, *, baked: bool, has_control: bool) -> Judgement:
        return self.judged
