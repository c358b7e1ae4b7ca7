"""95% intervals for the rollout benchmark's figures (pure), so that a reader can tell a
difference from noise: Wilson's for a share of runs, the distribution-free one (order
statistics) for a median, a bootstrap one for a mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
Interval = tuple[float, float]


def share(successes: int, runs: int) -> Interval:
    """Wilson's score interval of ``successes / runs``."""
    found = stats.binomtest(successes, runs).proportion_ci(CONFIDENCE, method="wilson")
    return float(found.low), float(found.high)


def median(values: Sequence[float]) -> Interval | None:
    """The order statistics that cover the median with at least 95% (binomial, n ≥ 6)."""
    if len(values) < 6:
        return None
    ordered = np.sort(np.asarray(values, dtype=float))
    n = ordered.size
    low = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))
    high = int(n - 1 - low)
    return float(ordered[max(low - 1, 0)]), float(ordered[min(high + 1, n - 1)])


def mean(values: Sequence[float]) -> Interval | None:
    """A percentile bootstrap interval of the mean (fixed seed: the report is reproducible)."""
    data = np.asarray(values, dtype=float)
    if data.size < 2 or np.all(data == data[0]):
        return (float(data[0]), float(data[0])) if data.size else None
    found = stats.bootstrap(
        (data,),
        np.mean,
        confidence_level=CONFIDENCE,
        method="percentile",
        n_resamples=2000,
        random_state=np.random.default_rng(0),
    ).confidence_interval
    return float(found.low), float(found.high)
