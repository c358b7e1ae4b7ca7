"""The evidence a gate accumulates (pure): the grids of effects it mixes over, the mixture
e-values and confidence sequences read from them, the bounds on how the updated group differed
before the stage, and the per-interval evidence about error counts and latency. ``gates`` turns
a stage's windows into this evidence and the evidence into a verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaincinv, ndtri

from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import Columns, Frame, UnitTable

Vector = NDArray[np.float64]
RATIO_GRID = np.linspace(-math.log(20), math.log(20), 241)
SHIFT_GRID = np.linspace(-0.7, 0.7, 281)
RATIO_PRIOR_SD = 1.0
SHIFT_PRIOR_SD = 0.2
MIN_BASELINE_EVENTS = 10
MIN_WINDOW_EVENTS = 20  # a baseline window with fewer errors says little on its own
MIN_ROBUST_WINDOWS = 5
RHO_CAP = 1e6
DEFAULT_LATENCY_SD = 0.1  # until the units themselves show how much they vary
MIN_LATENCY_SD = 0.005
MAX_STEP = 1.5  # the most log-evidence one interval may add to a test
PASS_MIX = 0.5  # the share of each interval's factor a pass test bets (what it may lose)


@dataclass(frozen=True)
class Grids:
    """The effects the evidence is mixed over, and each test's side of them."""

    ratio: Vector  # log rate ratios
    ratio_log_prior: Vector
    shift: Vector  # log latency shifts
    shift_log_prior: Vector
    zero: int  # index of log ratio 0
    error_tolerance: int  # index of log(error_tolerance)
    error_margin: int  # index of log(error_margin)
    tolerance: int  # index of log(1 + latency_tolerance)
    latency_margin: int  # index of log(1 + latency_margin)


def _log_prior(grid: Vector, sd: float) -> Vector:
    log_weights = -0.5 * (grid / sd) ** 2
    return np.asarray(log_weights - np.logaddexp.reduce(log_weights), dtype=float)


@lru_cache(maxsize=32)
def _grids(
    error_margin: float, error_tolerance: float, latency_tolerance: float, latency_margin: float
) -> Grids:
    ratio = np.unique(
        np.concatenate([RATIO_GRID, [0.0, math.log(error_tolerance), math.log(error_margin)]])
    )
    marks = [math.log1p(latency_tolerance), math.log1p(latency_margin)]
    shift = np.unique(np.concatenate([SHIFT_GRID, [0.0, *marks]]))
    return Grids(
        ratio=ratio,
        ratio_log_prior=_log_prior(ratio, RATIO_PRIOR_SD),
        shift=shift,
        shift_log_prior=_log_prior(shift, SHIFT_PRIOR_SD),
        zero=int(np.searchsorted(ratio, 0.0)),
        error_tolerance=int(np.searchsorted(ratio, math.log(error_tolerance))),
        error_margin=int(np.searchsorted(ratio, math.log(error_margin))),
        tolerance=int(np.searchsorted(shift, marks[0])),
        latency_margin=int(np.searchsorted(shift, marks[1])),
    )


def grids(rules: GateRules) -> Grids:
    return _grids(
        rules.error_margin, rules.error_tolerance, rules.latency_tolerance, rules.latency_margin
    )


def mixture(loglik: Vector, log_prior: Vector, null: int, *, above: bool) -> float:
    """The mixture e-value against the effect at index ``null``: alternatives above it (a
    regression) or below it (no regression as large as that), weighted by the prior."""
    side = slice(null + 1, None) if above else slice(0, null)
    weights = log_prior[side] - np.logaddexp.reduce(log_prior[side])
    log_e = float(np.logaddexp.reduce(loglik[side] - loglik[null] + weights))
    return math.exp(min(log_e, 700.0))


def sequence_interval(
    loglik: Vector, grid: Vector, log_prior: Vector, alpha: float
) -> tuple[float, ...]:
    """A (1 - alpha) confidence sequence: the effects whose own two-sided test has not rejected."""
    mixed = np.logaddexp.reduce(loglik + log_prior)
    keep = grid[mixed - loglik < math.log(1 / alpha)]
    if keep.size == 0:
        return (math.nan, math.nan)
    return (float(keep.min()), float(keep.max()))


def _odds(value: float) -> float:
    return value / (1 - value)


def rho_bounds(
    updated: float, control: float, share: float, alpha: float
) -> tuple[float, float, float]:
    """(low, estimate, high) of how much more error-prone the updated group was before it was
    updated: a Clopper-Pearson interval on its share of the events, as an odds ratio against its
    share of the traffic. Too few events: 1, as if events followed traffic."""
    events = updated + control
    if events < MIN_BASELINE_EVENTS or not 0 < share < 1:
        return (1.0, 1.0, 1.0)
    x, n = round(updated), round(events)
    low = float(betaincinv(x, n - x + 1, alpha / 2)) if x > 0 else 0.0
    high = float(betaincinv(x + 1, n - x, 1 - alpha / 2)) if x < n else 1.0
    estimate = (x + 0.5) / (n + 1)
    base = _odds(share)
    return (
        max(_odds(low) / base, 1 / RHO_CAP) if low > 0 else 1 / RHO_CAP,
        _odds(estimate) / base,
        min(_odds(high) / base, RHO_CAP) if high < 1 else RHO_CAP,
    )


def _count_loglik(
    events_updated: float, events_control: float, share: float, rho: float, grid: Vector
) -> Vector:
    """Log-likelihood ratios over the ratio grid of one interval's events (logit scale)."""
    logit0 = math.log(rho) + math.log(share) - math.log1p(-share)
    logits = logit0 + grid
    log_p = -np.logaddexp(0.0, -logits)
    log_q = -np.logaddexp(0.0, logits)
    log_p0 = -float(np.logaddexp(0.0, -logit0))
    log_q0 = -float(np.logaddexp(0.0, logit0))
    return np.asarray(
        events_updated * (log_p - log_p0) + events_control * (log_q - log_q0), dtype=float
    )


def _capped(increment: Vector, null: int) -> Vector:
    """One interval's log-likelihood ratios against the effect at index ``null``, each at most
    MAX_STEP. Every capped factor still has expectation at most 1 under the null, so the product
    stays a test supermartingale; but no single interval — one unit's burst of unrelated errors —
    can carry a stage far: a real regression must show in several intervals."""
    return np.asarray(np.minimum(increment - increment[null], MAX_STEP), dtype=float)


def _bounded(increment: Vector, null: int) -> Vector:
    """One interval's log-factors for a **pass** test: ``log(1 - λ + λ·min(LR, e^MAX_STEP))``
    with λ = ``PASS_MIX``, against the effect at index ``null`` (the margin).

    This bounds what one interval may take away as well as what it may add: at most
    ``log(1 / (1 - λ))`` (0.69) lost and ``log(1 - λ + λ·e^MAX_STEP)`` (1.01) gained. Without
    the floor, one burst minute of a noisy unit subtracts thousands from the pass evidence,
    which then never recovers: the stage holds although the fix is good.

    Still a test supermartingale, so Ville's inequality still bounds a wrong pass by alpha: under
    the null (the ratio at the margin or worse) each likelihood ratio has E[LR] ≤ 1, hence
    E[min(LR, c)] ≤ 1 and E[1 - λ + λ·min(LR, c)] ≤ 1 - λ + λ = 1; every factor is positive
    (at least 1 - λ); a product of such factors, and a mixture of such products over the
    effects with a fixed prior, is a nonnegative supermartingale starting at 1, which exceeds
    1/alpha with probability at most alpha. The fail tests keep the plain cap (:func:`_capped`): a
    floor there would slow the detection of crashes."""
    step = np.minimum(increment - increment[null], MAX_STEP)
    return np.asarray(np.log1p(PASS_MIX * np.expm1(step)), dtype=float)


@dataclass
class CountEvidence:
    """Evidence about the rate ratio of the updated group: for failing (against ratio 1, with
    the high rho), for passing (against the margin, with the low rho), both capped per interval;
    and the plain log-likelihood with the estimated rho, for showing the estimate."""

    rho: tuple[float, float, float]  # (for passing, estimate, for failing)
    fail: Vector
    passing: Vector
    plain: Vector
    updated: float = 0.0
    control: float = 0.0

    @classmethod
    def empty(cls, rho: tuple[float, float, float], size: int) -> CountEvidence:
        return cls(rho, np.zeros(size), np.zeros(size), np.zeros(size))

    def added(
        self, updated: float, control: float, share: float, g: Grids, *, fail_null: int
    ) -> CountEvidence:
        """One more interval; the fail test is against the ratio at ``fail_null`` (errors: the
        tolerance; crashes: no change at all)."""
        low, mid, high = (_count_loglik(updated, control, share, rho, g.ratio) for rho in self.rho)
        return replace(
            self,
            fail=self.fail + _capped(high, fail_null),
            passing=self.passing + _bounded(low, g.error_margin),
            plain=self.plain + mid,
            updated=self.updated + updated,
            control=self.control + control,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rho": list(self.rho),
            "fail": self.fail.tolist(),
            "passing": self.passing.tolist(),
            "plain": self.plain.tolist(),
            "updated": self.updated,
            "control": self.control,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CountEvidence:
        low, mid, high = data["rho"]
        return cls(
            rho=(low, mid, high),
            fail=np.asarray(data["fail"], dtype=float),
            passing=np.asarray(data["passing"], dtype=float),
            plain=np.asarray(data["plain"], dtype=float),
            updated=data["updated"],
            control=data["control"],
        )


@dataclass
class LatencyEvidence:
    """Evidence about the shift of log latency: capped e-processes against the tolerance (to
    fail) and the margin (to pass), and the plain sufficient statistics for the estimate."""

    baseline: UnitTable  # each unit's median log latency before
    fail: list[float]
    passing: list[float]
    weighted_sum: float = 0.0  # sum of d/v over intervals
    information: float = 0.0  # sum of 1/v
    squares: float = 0.0  # pooled squared residuals between units
    df: float = 0.0
    intervals: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.to_json(),
            "fail": list(self.fail),
            "passing": list(self.passing),
            "weighted_sum": self.weighted_sum,
            "information": self.information,
            "squares": self.squares,
            "df": self.df,
            "intervals": self.intervals,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyEvidence:
        return cls(**{**data, "baseline": UnitTable(data["baseline"])})

    def loglik(self, grid: Vector) -> Vector:
        return np.asarray(grid * self.weighted_sum - grid**2 * self.information / 2, dtype=float)

    def _residuals(self, group: Columns) -> Vector:
        """Each reporting unit's log latency minus its own baseline's."""
        latency = group.latency_ms
        known = (group.requests > 0) & ~np.isnan(latency) & (latency != 0)
        known &= self.baseline.has(group.units)
        units = group.units[known]
        return np.asarray(np.log(latency[known]) - self.baseline.lookup(units, 0.0), dtype=float)

    def added(self, frame: Frame, g: Grids) -> LatencyEvidence:
        updated, control = self._residuals(frame.updated), self._residuals(frame.control)
        if updated.size == 0 or control.size == 0:
            return self
        squares = self.squares + float(((updated - updated.mean()) ** 2).sum())
        squares += float(((control - control.mean()) ** 2).sum())
        df = self.df + updated.size + control.size - 2
        variance = max(squares / df if df > 0 else DEFAULT_LATENCY_SD**2, MIN_LATENCY_SD**2)
        spread = variance * (1 / updated.size + 1 / control.size)
        shift = float(updated.mean() - control.mean())
        step = (g.shift * shift - g.shift**2 / 2) / spread
        return replace(
            self,
            fail=list(np.asarray(self.fail) + _capped(step, g.tolerance)),
            passing=list(np.asarray(self.passing) + _bounded(step, g.latency_margin)),
            weighted_sum=self.weighted_sum + shift / spread,
            information=self.information + 1 / spread,
            squares=squares,
            df=df,
            intervals=self.intervals + 1,
        )


def robust_rho(
    windows: Sequence[tuple[float, float, float]], alpha: float
) -> tuple[float, float, float] | None:
    """(low, median, high) of the updated group's error odds ratio over the baseline windows
    (updated errors, control errors, expected share), or None with too few informative windows.

    Error counts are overdispersed: a burst in one unit for one window moves a pooled estimate
    far more than its Poisson interval admits, and a gate that starts from a biased ratio drifts
    to a false alarm. The median of the per-window ratios ignores a few such windows, and the
    interval for it (order statistics, distribution-free) covers the spread between windows."""
    ratios = sorted(
        math.log((u + 0.5) / (c + 0.5)) - math.log(share / (1 - share))
        for u, c, share in windows
        if u + c >= MIN_WINDOW_EVENTS and 0 < share < 1
    )
    n = len(ratios)
    if n < MIN_ROBUST_WINDOWS:
        return None
    k = max(math.floor(n / 2 - float(ndtri(1 - alpha / 2)) * math.sqrt(n) / 2), 0)
    return (math.exp(ratios[k]), math.exp(float(np.median(ratios))), math.exp(ratios[n - 1 - k]))
