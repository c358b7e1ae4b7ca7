"""The Mann-Whitney (Wilcoxon rank-sum) interval and estimate as Kayenta computes them (pure).

Kayenta's ``MannWhitney`` follows R's ``wilcox.test(x, y, conf.int = TRUE)`` for large samples:
the confidence bounds and the Hodges-Lehmann estimate of the shift ``x - y`` are the roots, in
``mu``, of the tie- and continuity-corrected rank-sum statistic of ``x - mu`` against ``y``
(``wilcoxon_diff``) set to the normal quantiles, found by Brent's method between
``min(x) - max(y)`` and ``max(x) - min(y)``. The statistic is a step function of ``mu``, so where
inside a step the root lands depends on the solver's exact path: ``brent_zero`` takes the steps of
R's ``zeroin`` (Brent 1973, absolute tolerance 1e-4), which Kayenta's ``BrentSolver`` also takes.
``scipy.optimize.brentq`` is a different variant of Brent's method and lands elsewhere in the
step — 2.9e-5 away on one of Kayenta's own cases, which asserts 1e-6 — which is why this module
has its own. A naive interval of order statistics of the pairwise differences is not what
Kayenta computes either: on inputs with many ties it collapses to (0, 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

Values = NDArray[np.float64]

TOLERANCE = 1e-4  # R's uniroot default is eps^0.25 = 1.2e-4; Kayenta's solver uses 1e-4
MAX_ITERATIONS = 1000
EPSILON = float(np.finfo(float).eps)


class AllTied(ValueError):
    """Every observation is tied: the statistic has no variance, no interval exists."""


@dataclass(frozen=True)
class Control:
    """The control sample, sorted once: every evaluation of the statistic shifts only ``x``."""

    sorted: Values
    values: Values  # its distinct values
    counts: Values  # how often each occurs
    ties: float  # the sum of t^3 - t over its groups of ties

    @classmethod
    def of(cls, y: Values) -> Control:
        values, counts = np.unique(y, return_counts=True)
        weights = counts.astype(float)
        return cls(np.sort(y), values, weights, float((weights**3 - weights).sum()))


def wilcoxon_diff(mu: float, quantile: float, x: Values, y: Values | Control) -> float:
    """The standardized, continuity-corrected rank-sum statistic of ``x - mu`` against ``y``,
    minus ``quantile``: zero where ``mu`` is the bound of that quantile. The rank sum is
    counted as the pairs ``x - mu`` exceeds (ties a half), and the tie correction from the
    groups of equal values in both samples together: the same numbers as ranking the combined
    sample, without sorting it at every evaluation."""
    control = y if isinstance(y, Control) else Control.of(y)
    m, n = float(x.size), float(control.sorted.size)
    shifted = np.sort(x - mu)
    below = np.searchsorted(control.sorted, shifted, "left")
    through = np.searchsorted(control.sorted, shifted, "right")
    statistic = float(below.sum()) + 0.5 * float((through - below).sum()) - m * n / 2
    values, counts = np.unique(shifted, return_counts=True)
    mine = counts.astype(float)
    at = np.minimum(np.searchsorted(control.values, values), control.values.size - 1)
    theirs = np.where(control.values[at] == values, control.counts[at], 0.0)
    together = mine + theirs
    ties = float((together**3 - together).sum()) + control.ties - float((theirs**3 - theirs).sum())
    correction = 0.5 * float(np.sign(statistic))
    sigma = math.sqrt((m * n / 12) * ((m + n + 1) - ties / ((m + n) * (m + n - 1))))
    if sigma == 0:
        raise AllTied("cannot compute a confidence interval when all observations are tied")
    return (statistic - correction) / sigma - quantile


def brent_zero(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    f_lower: float,
    f_upper: float,
    tolerance: float = TOLERANCE,
) -> float:
    """A zero of ``f`` between ``lower`` and ``upper`` (where ``f`` changes sign), by the steps
    of R's ``zeroin``: bisection, secant or inverse quadratic interpolation, whichever is safe."""
    a, b, fa, fb = lower, upper, f_lower, f_upper
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(MAX_ITERATIONS + 1):
        previous = b - a
        if abs(fc) < abs(fb):  # keep b the best guess so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2 * EPSILON * abs(b) + tolerance / 2
        step = (c - b) / 2
        if abs(step) <= tol or fb == 0:
            return b
        interpolated = None
        if abs(previous) >= tol and abs(fa) > abs(fb):
            interpolated = _interpolated((a, b, c), (fa, fb, fc), previous, tol)
        step = step if interpolated is None else interpolated
        if abs(step) < tol:
            step = tol if step > 0 else -tol
        a, fa = b, fb
        b += step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _interpolated(
    points: tuple[float, float, float],
    values: tuple[float, float, float],
    previous: float,
    tol: float,
) -> float | None:
    """The secant or inverse quadratic step from b, or None where bisection is safer."""
    (a, b, c), (fa, fb, fc) = points, values
    cb = c - b
    if a == c:  # secant
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:  # inverse quadratic interpolation
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < 0.75 * cb * q - abs(tol * q) / 2 and p < abs(previous * q / 2):
        return p / q
    return None


def interval(x: Values, y: Values, confidence: float) -> tuple[float, float, float]:
    """(lower, upper, estimate) of the shift ``x - y`` at ``confidence`` (two-sided)."""
    lowest, highest = float(x.min() - y.max()), float(x.max() - y.min())
    control = Control.of(y)

    def at(quantile: float) -> Callable[[float], float]:
        return lambda mu: wilcoxon_diff(mu, quantile, x, control)

    def root(quantile: float) -> float:
        f_low, f_high = at(quantile)(lowest), at(quantile)(highest)
        if f_low <= 0:
            return lowest
        if f_high >= 0:
            return highest
        return brent_zero(at(quantile), lowest, highest, f_low, f_high)

    z = float(ndtri((1 - confidence) / 2))  # negative
    estimate = brent_zero(at(0.0), lowest, highest, at(0.0)(lowest), at(0.0)(highest))
    return root(-z), root(z), estimate
