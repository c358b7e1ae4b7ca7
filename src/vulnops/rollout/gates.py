"""Health gates (pure statistics): is the stage just deployed worse than the units not updated yet?

A gate compares the **updated** units with the **control** units (those still on the old
version), one interval at a time, and keeps the evidence as e-processes — products of likelihood
ratios mixed over the size of the effect — so that it may look after every interval and still
raise a false alarm with probability at most ``alpha`` (Ville's inequality: a nonnegative
supermartingale starting at 1 exceeds 1/a with probability at most a).

**Counts** (errors, crashes). From each unit's own baseline error rate and the traffic each unit
served in an interval, the share ``e`` of the interval's errors the updated group would have
under no regression is known; each event falls in that group with probability
``p0 = rho*e / (rho*e + 1 - e)``, where ``rho`` is how far the updated units already strayed from
their own rates in the baseline window (the median of per-window ratios, robust to a burst). A
regression multiplies the updated group's odds by the rate ratio ``r``; the evidence for ``r`` is
mixed over a grid of log-ratios. Because ``rho`` is itself estimated, the test that fails a stage
uses the upper end of its interval and the test that passes a stage the lower end: both stay
conservative. Crashes are rare, so their ``e`` is the traffic share and their ``rho`` is 1; they
can fail a stage but are not needed to pass it.

**Latency.** Each unit's mean latency in an interval, on a log scale, minus the unit's own
baseline; the interval's difference between the two groups' means is treated as normal with the
pooled variance between units, and a mixture SPRT over the shift accumulates the evidence.

A stage **fails** as soon as the errors, crashes or latency show a regression (a rate ratio above
1, latency above the tolerance); it **passes** once the minimum bake has elapsed, the updated units
have served ``min_requests``, and the evidence shows the error ratio below ``error_margin`` and
the latency increase below ``latency_margin``. No data, or too little, never passes: it holds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaincinv, ndtri

from vulnops.rollout.policy import GateRules

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
BURST_FACTOR = 3.0
BURST_SLACK = 10.0


@dataclass(frozen=True)
class UnitSample:
    """What one unit served in one window."""

    requests: float
    errors: float = 0.0
    crashes: float = 0.0
    latency_ms: float | None = None


@dataclass(frozen=True)
class Window:
    updated: Mapping[int, UnitSample]
    control: Mapping[int, UnitSample]


class VerdictKind(StrEnum):
    PENDING = "pending"
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    HOLD = "hold"


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str
    stats: dict[str, Any]


@dataclass(frozen=True)
class Grids:
    """The effects the evidence is mixed over, and each test's side of them."""

    ratio: Vector  # log rate ratios
    ratio_log_prior: Vector
    shift: Vector  # log latency shifts
    shift_log_prior: Vector
    zero: int  # index of log ratio 0
    error_margin: int  # index of log(error_margin)
    tolerance: int  # index of log(1 + latency_tolerance)
    latency_margin: int  # index of log(1 + latency_margin)


def _log_prior(grid: Vector, sd: float) -> Vector:
    log_weights = -0.5 * (grid / sd) ** 2
    return np.asarray(log_weights - np.logaddexp.reduce(log_weights), dtype=float)


@lru_cache(maxsize=32)
def _grids(error_margin: float, latency_tolerance: float, latency_margin: float) -> Grids:
    ratio = np.unique(np.concatenate([RATIO_GRID, [0.0, math.log(error_margin)]]))
    marks = [math.log1p(latency_tolerance), math.log1p(latency_margin)]
    shift = np.unique(np.concatenate([SHIFT_GRID, [0.0, *marks]]))
    return Grids(
        ratio=ratio,
        ratio_log_prior=_log_prior(ratio, RATIO_PRIOR_SD),
        shift=shift,
        shift_log_prior=_log_prior(shift, SHIFT_PRIOR_SD),
        zero=int(np.searchsorted(ratio, 0.0)),
        error_margin=int(np.searchsorted(ratio, math.log(error_margin))),
        tolerance=int(np.searchsorted(shift, marks[0])),
        latency_margin=int(np.searchsorted(shift, marks[1])),
    )


def grids(rules: GateRules) -> Grids:
    return _grids(rules.error_margin, rules.latency_tolerance, rules.latency_margin)


def _mixture(loglik: Vector, log_prior: Vector, null: int, *, above: bool) -> float:
    """The mixture e-value against the effect at index ``null``: alternatives above it (a
    regression) or below it (no regression as large as that), weighted by the prior."""
    side = slice(null + 1, None) if above else slice(0, null)
    weights = log_prior[side] - np.logaddexp.reduce(log_prior[side])
    log_e = float(np.logaddexp.reduce(loglik[side] - loglik[null] + weights))
    return math.exp(min(log_e, 700.0))


def _interval(loglik: Vector, grid: Vector, log_prior: Vector, alpha: float) -> tuple[float, ...]:
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

    def added(self, updated: float, control: float, share: float, g: Grids) -> CountEvidence:
        low, mid, high = (_count_loglik(updated, control, share, rho, g.ratio) for rho in self.rho)
        return replace(
            self,
            fail=self.fail + _capped(high, g.zero),
            passing=self.passing + _capped(low, g.error_margin),
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

    baseline: dict[str, float]  # unit id (as text, for JSON) -> median log latency before
    fail: list[float]
    passing: list[float]
    weighted_sum: float = 0.0  # sum of d/v over intervals
    information: float = 0.0  # sum of 1/v
    squares: float = 0.0  # pooled squared residuals between units
    df: float = 0.0
    intervals: int = 0

    def loglik(self, grid: Vector) -> Vector:
        return np.asarray(grid * self.weighted_sum - grid**2 * self.information / 2, dtype=float)

    def added(self, window: Window, g: Grids) -> LatencyEvidence:
        groups = []
        for samples in (window.updated, window.control):
            residuals = [
                math.log(s.latency_ms) - self.baseline[str(unit)]
                for unit, s in samples.items()
                if s.latency_ms and s.requests > 0 and str(unit) in self.baseline
            ]
            groups.append(np.asarray(residuals, dtype=float))
        updated, control = groups
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
            passing=list(np.asarray(self.passing) + _capped(step, g.latency_margin)),
            weighted_sum=self.weighted_sum + shift / spread,
            information=self.information + 1 / spread,
            squares=squares,
            df=df,
            intervals=self.intervals + 1,
        )


@dataclass
class GateState:
    errors: CountEvidence
    crashes: CountEvidence
    latency: LatencyEvidence
    error_rates: dict[str, float] = field(default_factory=dict)  # unit -> baseline rate
    requests_updated: float = 0.0
    intervals: int = 0
    empty_intervals: int = 0
    last_empty: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "errors": self.errors.to_json(),
            "crashes": self.crashes.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateState:
        return cls(
            errors=CountEvidence.from_json(data["errors"]),
            crashes=CountEvidence.from_json(data["crashes"]),
            latency=LatencyEvidence(**data["latency"]),
            error_rates=dict(data["error_rates"]),
            requests_updated=data["requests_updated"],
            intervals=data["intervals"],
            empty_intervals=data["empty_intervals"],
            last_empty=data["last_empty"],
            notes=list(data["notes"]),
        )


def _totals(samples: Mapping[int, UnitSample]) -> tuple[float, float]:
    return (sum(s.requests for s in samples.values()), sum(s.crashes for s in samples.values()))


def _expected_errors(samples: Mapping[int, UnitSample], rates: Mapping[str, float]) -> float:
    """The errors a window would hold if every unit erred at its own baseline rate (a unit
    without one at the median rate)."""
    fallback = float(np.median(list(rates.values()))) if rates else 0.0
    return sum(s.requests * rates.get(str(unit), fallback) for unit, s in samples.items())


def _error_share(window: Window, rates: Mapping[str, float]) -> float:
    """The share of a window's errors the updated units would have under no regression: from
    each unit's own rate and the traffic it served in this window, so that which units are in
    each group, and how their traffic moves through the day, are accounted for."""
    expected_u = _expected_errors(window.updated, rates)
    expected_c = _expected_errors(window.control, rates)
    total = expected_u + expected_c
    return expected_u / total if total > 0 else 0.0


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


def _capped_errors(samples: Mapping[int, UnitSample], rates: Mapping[str, float]) -> float:
    """A window's errors, each unit's capped at ``BURST_FACTOR`` times what its own baseline rate
    predicts: one unit's short burst of unrelated errors must not fail (or pass) a stage, while
    a release that doubles errors everywhere stays far below the cap."""
    total = 0.0
    for unit, sample in samples.items():
        rate = rates.get(str(unit))
        expected = sample.requests * rate if rate is not None else math.inf
        total += min(sample.errors, BURST_FACTOR * expected + BURST_SLACK)
    return total


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def start(baseline: Sequence[Window], rules: GateRules) -> GateState:
    """A gate's state from the windows before the stage deployed: each unit's own error rate
    and latency (robust to a burst in a window), and how much more
    error-prone the updated group was than the control (from the capped counts)."""
    per_unit: dict[str, list[UnitSample]] = defaultdict(list)
    for window in baseline:
        for samples in (window.updated, window.control):
            for unit, sample in samples.items():
                if sample.requests > 0:
                    per_unit[str(unit)].append(sample)
    rates: dict[str, float] = {}
    latency: dict[str, float] = {}
    for key, history in per_unit.items():
        median = _median([h.errors / h.requests for h in history])
        if median is not None:
            # The median of per-window rates is robust but biased low when a window holds few
            # errors; errors over requests, each window capped where a burst would be, is not.
            served = sum(h.requests for h in history)
            capped = sum(
                min(h.errors, BURST_FACTOR * median * h.requests + BURST_SLACK) for h in history
            )
            rates[key] = max(capped / served, 1 / served)  # never 0: a unit may have some
        log_latency = _median([math.log(h.latency_ms) for h in history if h.latency_ms])
        if log_latency is not None:
            latency[key] = log_latency
    expected_u = sum(_expected_errors(w.updated, rates) for w in baseline)
    expected_c = sum(_expected_errors(w.control, rates) for w in baseline)
    errors_u = sum(_capped_errors(w.updated, rates) for w in baseline)
    errors_c = sum(_capped_errors(w.control, rates) for w in baseline)
    total = expected_u + expected_c
    share = expected_u / total if total > 0 else 0.0
    rho = rho_bounds(errors_u, errors_c, share, rules.alpha / 6)
    robust = robust_rho(
        [
            (
                _capped_errors(w.updated, rates),
                _capped_errors(w.control, rates),
                _error_share(w, rates),
            )
            for w in baseline
        ],
        rules.alpha / 6,
    )
    if robust is not None:  # the wider of the two: Poisson noise and the spread between windows
        rho = (min(rho[0], robust[0]), robust[1], max(rho[2], robust[2]))
    g = grids(rules)
    notes = []
    if errors_u + errors_c < MIN_BASELINE_EVENTS:
        notes.append("baseline: too few errors to compare the groups; errors follow traffic")
    return GateState(
        errors=CountEvidence.empty(rho, g.ratio.size),
        crashes=CountEvidence.empty((1.0, 1.0, 1.0), g.ratio.size),
        latency=LatencyEvidence(
            baseline=latency, fail=[0.0] * g.shift.size, passing=[0.0] * g.shift.size
        ),
        error_rates=rates,
        notes=notes,
    )


def update(state: GateState, window: Window, rules: GateRules) -> GateState:
    """The state after one more interval (the state passed in is left as it was)."""
    requests_u, crashes_u = _totals(window.updated)
    requests_c, crashes_c = _totals(window.control)
    if requests_u <= 0:
        return replace(
            state,
            intervals=state.intervals + 1,
            empty_intervals=state.empty_intervals + 1,
            last_empty=True,
        )
    changed = replace(
        state,
        intervals=state.intervals + 1,
        last_empty=False,
        requests_updated=state.requests_updated + requests_u,
    )
    if requests_c <= 0:
        return changed
    share = requests_u / (requests_u + requests_c)
    g = grids(rules)
    errors_u = _capped_errors(window.updated, state.error_rates)
    errors_c = _capped_errors(window.control, state.error_rates)
    error_share = _error_share(window, state.error_rates) if state.error_rates else share
    return replace(
        changed,
        errors=state.errors.added(errors_u, errors_c, error_share, g),
        crashes=state.crashes.added(crashes_u, crashes_c, share, g),
        latency=state.latency.added(window, g),
    )


def _evidence(state: GateState, rules: GateRules) -> dict[str, Any]:
    g = grids(rules)
    latency = state.latency.loglik(g.shift)
    measured = state.latency.intervals > 0
    error_low, error_high = _interval(state.errors.plain, g.ratio, g.ratio_log_prior, 0.05)
    shift_low, shift_high = _interval(latency, g.shift, g.shift_log_prior, 0.05)
    return {
        "errors_fail_e": _mixture(state.errors.fail, g.ratio_log_prior, g.zero, above=True),
        "errors_pass_e": _mixture(
            state.errors.passing, g.ratio_log_prior, g.error_margin, above=False
        ),
        "crashes_fail_e": _mixture(state.crashes.fail, g.ratio_log_prior, g.zero, above=True),
        "latency_fail_e": _mixture(
            np.asarray(state.latency.fail), g.shift_log_prior, g.tolerance, above=True
        ),
        "latency_pass_e": _mixture(
            np.asarray(state.latency.passing), g.shift_log_prior, g.latency_margin, above=False
        ),
        "error_ratio": math.exp(float(g.ratio[int(np.argmax(state.errors.plain))])),
        "error_ratio_95": [math.exp(error_low), math.exp(error_high)],
        "latency_change": math.expm1(float(g.shift[int(np.argmax(latency))])) if measured else None,
        "latency_change_95": [math.expm1(shift_low), math.expm1(shift_high)] if measured else None,
        "errors_updated": state.errors.updated,
        "errors_control": state.errors.control,
        "crashes_updated": state.crashes.updated,
        "crashes_control": state.crashes.control,
        "requests_updated": state.requests_updated,
        "intervals": state.intervals,
        "rho": [float(value) for value in state.errors.rho],
    }


def _failure(evidence: dict[str, Any], rules: GateRules) -> str | None:
    fail_at = 6 / rules.alpha  # alpha/3 per metric, half of it for the baseline's estimate
    for metric, label in (
        ("errors_fail_e", "errors"),
        ("crashes_fail_e", "crashes"),
        ("latency_fail_e", "latency"),
    ):
        if evidence[metric] >= fail_at:
            return f"{label}: the updated units are worse (e-value {evidence[metric]:.3g})"
    return None


def _still_missing(
    state: GateState, evidence: dict[str, Any], rules: GateRules, *, baked: bool, compare: bool
) -> list[str]:
    missing = []
    if not baked:
        missing.append("the minimum bake")
    if state.requests_updated < rules.min_requests:
        missing.append(f"requests ({state.requests_updated:,.0f} of {rules.min_requests:,})")
    pass_at = 4 / rules.alpha  # alpha/2 per metric, half of it for the baseline's estimate
    if compare and evidence["errors_pass_e"] < pass_at:
        missing.append(f"evidence that errors are below {rules.error_margin:g} times the control's")
    if compare and state.latency.baseline and evidence["latency_pass_e"] < pass_at:
        missing.append(f"evidence that latency is below +{rules.latency_margin:.0%}")
    return missing


def verdict(state: GateState, rules: GateRules, *, baked: bool, has_control: bool) -> Verdict:
    """What the evidence says now. ``baked``: the minimum bake has elapsed; ``has_control``: some
    units still run the old version (without them the stage is only watched)."""
    evidence = _evidence(state, rules)
    failure = _failure(evidence, rules)
    if failure is not None:
        return Verdict(VerdictKind.FAIL, failure, evidence)
    if state.requests_updated <= 0:
        return Verdict(VerdictKind.HOLD, "no data from the health source yet", evidence)
    if state.last_empty:
        return Verdict(VerdictKind.HOLD, "no data from the health source lately", evidence)
    missing = _still_missing(state, evidence, rules, baked=baked, compare=has_control)
    if missing:
        return Verdict(VerdictKind.PENDING, "waiting for " + ", ".join(missing), evidence)
    if not has_control:
        return Verdict(
            VerdictKind.PASS, "no unit left on the old version to compare with: watched", evidence
        )
    return Verdict(VerdictKind.PASS, "no regression beyond the margins", evidence)
