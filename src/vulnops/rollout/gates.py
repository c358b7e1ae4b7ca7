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
from typing import Any

import numpy as np

from vulnops.rollout.evidence import (
    MIN_BASELINE_EVENTS,
    CountEvidence,
    LatencyEvidence,
    grids,
    mixture,
    rho_bounds,
    robust_rho,
    sequence_interval,
)
from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import UnitSample, Window

BURST_FACTOR = 3.0
BURST_SLACK = 10.0


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


# Each unit's baseline error rate by unit id (the state keeps them by id as text, for JSON; the
# hot loops read them by id, converted once per interval).
Rates = Mapping[int, float]


def _by_unit(rates: Mapping[str, float]) -> dict[int, float]:
    return {int(unit): rate for unit, rate in rates.items()}


def _fallback_rate(rates: Rates) -> float:
    """The rate of a unit with none of its own: the median unit's."""
    return float(np.median(list(rates.values()))) if rates else 0.0


def _expected_errors(samples: Mapping[int, UnitSample], rates: Rates, fallback: float) -> float:
    """The errors a window would hold if every unit erred at its own baseline rate (a unit
    without one at the median rate)."""
    return sum(s.requests * rates.get(unit, fallback) for unit, s in samples.items())


def _error_share(window: Window, rates: Rates) -> float:
    """The share of a window's errors the updated units would have under no regression: from
    each unit's own rate and the traffic it served in this window, so that which units are in
    each group, and how their traffic moves through the day, are accounted for."""
    fallback = _fallback_rate(rates)
    expected_u = _expected_errors(window.updated, rates, fallback)
    expected_c = _expected_errors(window.control, rates, fallback)
    total = expected_u + expected_c
    return expected_u / total if total > 0 else 0.0


def _capped_errors(samples: Mapping[int, UnitSample], rates: Rates) -> float:
    """A window's errors, each unit's capped at ``BURST_FACTOR`` times what its own baseline rate
    predicts: one unit's short burst of unrelated errors must not fail (or pass) a stage, while
    a release that doubles errors everywhere stays far below the cap."""
    total = 0.0
    for unit, sample in samples.items():
        rate = rates.get(unit)
        expected = sample.requests * rate if rate is not None else math.inf
        total += min(sample.errors, BURST_FACTOR * expected + BURST_SLACK)
    return total


def unusual_units(window: Window, rates: Mapping[str, float]) -> tuple[list[int], list[int]]:
    """The updated units of a window that served nothing, and those whose errors reached the
    burst cap (what the evidence takes of them is capped: such a unit slows a verdict and is a
    candidate to leave out of the evidence)."""
    by_unit = _by_unit(rates)
    quiet = sorted(unit for unit, sample in window.updated.items() if sample.requests <= 0)
    noisy = []
    for unit, sample in window.updated.items():
        rate = by_unit.get(unit)
        cap = BURST_FACTOR * sample.requests * rate + BURST_SLACK if rate is not None else None
        if cap is not None and sample.requests > 0 and sample.errors > cap:
            noisy.append(unit)
    return quiet, sorted(noisy)


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def start(baseline: Sequence[Window], rules: GateRules) -> GateState:
    """A gate's state from the windows before the stage deployed: each unit's own error rate
    and latency (robust to a burst in a window), and how much more
    error-prone the updated group was than the control (from the capped counts)."""
    per_unit: dict[int, list[UnitSample]] = defaultdict(list)
    for window in baseline:
        for samples in (window.updated, window.control):
            for unit, sample in samples.items():
                if sample.requests > 0:
                    per_unit[unit].append(sample)
    rates: dict[int, float] = {}
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
            latency[str(key)] = log_latency
    fallback = _fallback_rate(rates)
    expected_u = sum(_expected_errors(w.updated, rates, fallback) for w in baseline)
    expected_c = sum(_expected_errors(w.control, rates, fallback) for w in baseline)
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
        error_rates={str(unit): rate for unit, rate in rates.items()},
        notes=notes,
    )


def update(state: GateState, window: Window, rules: GateRules) -> GateState:
    """The state after one more interval (the state passed in is left as it was). The units a
    person excluded (``window.watched``) count in the crashes only, with their traffic."""
    requests_u, crashes_u = _totals(window.updated)
    requests_c, crashes_c = _totals(window.control)
    requests_w, crashes_w = _totals(window.watched)
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
    crash_share = (requests_u + requests_w) / (requests_u + requests_w + requests_c)
    g = grids(rules)
    rates = _by_unit(state.error_rates)
    errors_u = _capped_errors(window.updated, rates)
    errors_c = _capped_errors(window.control, rates)
    error_share = _error_share(window, rates) if rates else share
    return replace(
        changed,
        errors=state.errors.added(errors_u, errors_c, error_share, g, fail_null=g.error_tolerance),
        crashes=state.crashes.added(
            crashes_u + crashes_w, crashes_c, crash_share, g, fail_null=g.zero
        ),
        latency=state.latency.added(window, g),
    )


def restarted(state: GateState, rules: GateRules, note: str) -> GateState:
    """The gate gathering its evidence again from nothing (after a person excluded a unit, what
    that unit took from it is gone), with the baseline it had: each unit's rates, the groups'
    ratio."""
    g = grids(rules)
    return replace(
        state,
        errors=CountEvidence.empty(state.errors.rho, g.ratio.size),
        crashes=CountEvidence.empty(state.crashes.rho, g.ratio.size),
        latency=LatencyEvidence(
            baseline=state.latency.baseline, fail=[0.0] * g.shift.size, passing=[0.0] * g.shift.size
        ),
        requests_updated=0.0,
        intervals=0,
        empty_intervals=0,
        last_empty=False,
        notes=[*state.notes, note],
    )


def _evidence(state: GateState, rules: GateRules) -> dict[str, Any]:
    g = grids(rules)
    latency = state.latency.loglik(g.shift)
    measured = state.latency.intervals > 0
    error_low, error_high = sequence_interval(state.errors.plain, g.ratio, g.ratio_log_prior, 0.05)
    shift_low, shift_high = sequence_interval(latency, g.shift, g.shift_log_prior, 0.05)
    return {
        "errors_fail_e": mixture(
            state.errors.fail, g.ratio_log_prior, g.error_tolerance, above=True
        ),
        "errors_pass_e": mixture(
            state.errors.passing, g.ratio_log_prior, g.error_margin, above=False
        ),
        "crashes_fail_e": mixture(state.crashes.fail, g.ratio_log_prior, g.zero, above=True),
        "latency_fail_e": mixture(
            np.asarray(state.latency.fail), g.shift_log_prior, g.tolerance, above=True
        ),
        "latency_pass_e": mixture(
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
    """Why the stage fails, in words: which measure is worse, and by how much."""
    fail_at = 6 / rules.alpha  # alpha/3 per metric, half of it for the baseline's estimate
    if evidence["errors_fail_e"] >= fail_at:
        low, high = evidence["error_ratio_95"]
        return (
            f"errors: the updated units fail {evidence['error_ratio']:.2f} times as often as "
            f"before (95% interval {low:.2f} to {high:.2f}), beyond the "
            f"{rules.error_tolerance:g} tolerated"
        )
    if evidence["crashes_fail_e"] >= fail_at:
        return (
            f"crashes: {evidence['crashes_updated']:,.0f} on the updated units against "
            f"{evidence['crashes_control']:,.0f} on the old version, more than traffic explains"
        )
    if evidence["latency_fail_e"] >= fail_at:
        low, high = evidence["latency_change_95"]
        return (
            f"latency: the updated units are {evidence['latency_change']:.1%} slower "
            f"(95% interval {low:+.1%} to {high:+.1%}), beyond the {rules.latency_tolerance:.0%} "
            "tolerated"
        )
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
        return Verdict(
            VerdictKind.PENDING,
            "waiting for " + ", ".join(missing),
            {**evidence, "missing": missing},
        )
    if not has_control:
        return Verdict(
            VerdictKind.PASS, "no unit left on the old version to compare with: watched", evidence
        )
    return Verdict(VerdictKind.PASS, "no regression beyond the margins", evidence)
