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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
from vulnops.rollout.samples import COLUMN_NAMES, Columns, Frame, Ids, UnitTable, Vector, Window

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
    error_rates: UnitTable = field(default_factory=lambda: UnitTable({}))  # baseline rates
    requests_updated: float = 0.0
    intervals: int = 0
    empty_intervals: int = 0
    last_empty: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "errors": self.errors.to_json(),
            "crashes": self.crashes.to_json(),
            "latency": self.latency.to_json(),
            "error_rates": self.error_rates.to_json(),
            "requests_updated": self.requests_updated,
            "intervals": self.intervals,
            "empty_intervals": self.empty_intervals,
            "last_empty": self.last_empty,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateState:
        return cls(
            errors=CountEvidence.from_json(data["errors"]),
            crashes=CountEvidence.from_json(data["crashes"]),
            latency=LatencyEvidence.from_json(data["latency"]),
            error_rates=UnitTable(data["error_rates"]),
            requests_updated=data["requests_updated"],
            intervals=data["intervals"],
            empty_intervals=data["empty_intervals"],
            last_empty=data["last_empty"],
            notes=list(data["notes"]),
        )


def _expected_errors(group: Columns, rates: UnitTable) -> float:
    """The errors a group would hold if every unit erred at its own baseline rate (a unit
    without one at the median unit's rate)."""
    return float((group.requests * rates.lookup(group.units, rates.median)).sum())


def _error_share(frame: Frame, rates: UnitTable) -> float:
    """The share of a window's errors the updated units would have under no regression: from
    each unit's own rate and the traffic it served in this window, so that which units are in
    each group, and how their traffic moves through the day, are accounted for."""
    expected_u = _expected_errors(frame.updated, rates)
    expected_c = _expected_errors(frame.control, rates)
    total = expected_u + expected_c
    return expected_u / total if total > 0 else 0.0


def _caps(group: Columns, rates: UnitTable) -> Vector:
    """Each unit's cap: ``BURST_FACTOR`` times what its own baseline rate predicts (no cap for
    a unit without one)."""
    rated = rates.has(group.units)
    expected = group.requests * rates.lookup(group.units, 0.0)
    return np.where(rated, BURST_FACTOR * expected + BURST_SLACK, math.inf)


def _capped_errors(group: Columns, rates: UnitTable) -> float:
    """A window's errors, each unit's capped at ``BURST_FACTOR`` times what its own baseline rate
    predicts: one unit's short burst of unrelated errors must not fail (or pass) a stage, while
    a release that doubles errors everywhere stays far below the cap."""
    return float(np.minimum(group.errors, _caps(group, rates)).sum())


def unusual_units(window: Window | Frame, rates: UnitTable) -> tuple[list[int], list[int]]:
    """The updated units of a window that served nothing, and those whose errors reached the
    burst cap (what the evidence takes of them is capped: such a unit slows a verdict and is a
    candidate to leave out of the evidence)."""
    updated = Frame.of(window).updated
    served = updated.requests > 0
    noisy = served & rates.has(updated.units) & (updated.errors > _caps(updated, rates))
    return sorted(updated.units[~served].tolist()), sorted(updated.units[noisy].tolist())


def _grouped_medians(units: Ids, values: Vector) -> tuple[Ids, Vector, Ids, NDArray[np.intp]]:
    """Per unit, the median of its values (as ``np.median`` gives it); also each value's group
    and the groups' starts in unit order, for sums by unit."""
    order = np.lexsort((values, units))
    units, values = units[order], values[order]
    keys, starts, counts = np.unique(units, return_index=True, return_counts=True)
    medians = (values[starts + (counts - 1) // 2] + values[starts + counts // 2]) / 2
    return keys, medians, order, starts


def _baseline_rates(history: Columns) -> UnitTable:
    """Each unit's own error rate: errors over requests, each window capped where a burst
    would be, around the median of its per-window rates (robust to a burst, but biased low when
    a window holds few errors: the capped ratio is not). Never 0: a unit may have some."""
    if len(history) == 0:
        return UnitTable({})
    keys, medians, order, starts = _grouped_medians(
        history.units, history.errors / history.requests
    )
    requests, errors = history.requests[order], history.errors[order]
    median_of = np.repeat(medians, np.diff(np.append(starts, requests.size)))
    capped = np.minimum(errors, BURST_FACTOR * median_of * requests + BURST_SLACK)
    served = np.add.reduceat(requests, starts)
    rates = np.maximum(np.add.reduceat(capped, starts) / served, 1 / served)
    return UnitTable(dict(zip(keys.tolist(), rates.tolist(), strict=True)))


def _baseline_latency(history: Columns) -> UnitTable:
    reported = ~np.isnan(history.latency_ms) & (history.latency_ms != 0)
    if not reported.any():
        return UnitTable({})
    keys, medians, _, _ = _grouped_medians(
        history.units[reported], np.log(history.latency_ms[reported])
    )
    return UnitTable(dict(zip(keys.tolist(), medians.tolist(), strict=True)))


def _served(frames: Sequence[Frame]) -> Columns:
    """Every group's samples of every window that served something, in one set of columns."""
    groups = [g for f in frames for g in (f.updated, f.control)]
    if not groups:
        return Columns.empty()
    joined = Columns(*(np.concatenate([getattr(g, name) for g in groups]) for name in COLUMN_NAMES))
    kept = joined.requests > 0
    return Columns(*(getattr(joined, name)[kept] for name in COLUMN_NAMES))


def start(baseline: Sequence[Window | Frame], rules: GateRules) -> GateState:
    """A gate's state from the windows before the stage deployed: each unit's own error rate
    and latency (robust to a burst in a window), and how much more
    error-prone the updated group was than the control (from the capped counts)."""
    frames = [Frame.of(w) for w in baseline]
    history = _served(frames)
    rates = _baseline_rates(history)
    latency = _baseline_latency(history)
    expected_u = sum(_expected_errors(f.updated, rates) for f in frames)
    expected_c = sum(_expected_errors(f.control, rates) for f in frames)
    capped = [(_capped_errors(f.updated, rates), _capped_errors(f.control, rates)) for f in frames]
    errors_u = sum(u for u, _ in capped)
    errors_c = sum(c for _, c in capped)
    total = expected_u + expected_c
    share = expected_u / total if total > 0 else 0.0
    rho = rho_bounds(errors_u, errors_c, share, rules.alpha / 6)
    robust = robust_rho(
        [(u, c, _error_share(f, rates)) for (u, c), f in zip(capped, frames, strict=True)],
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


def update(state: GateState, window: Window | Frame, rules: GateRules) -> GateState:
    """The state after one more interval (the state passed in is left as it was). The units a
    person excluded (``window.watched``) count in the crashes only, with their traffic."""
    frame = Frame.of(window)
    requests_u, crashes_u = float(frame.updated.requests.sum()), float(frame.updated.crashes.sum())
    requests_c, crashes_c = float(frame.control.requests.sum()), float(frame.control.crashes.sum())
    requests_w, crashes_w = float(frame.watched.requests.sum()), float(frame.watched.crashes.sum())
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
    rates = state.error_rates
    errors_u = _capped_errors(frame.updated, rates)
    errors_c = _capped_errors(frame.control, rates)
    error_share = _error_share(frame, rates) if len(rates) else share
    return replace(
        changed,
        errors=state.errors.added(errors_u, errors_c, error_share, g, fail_null=g.error_tolerance),
        crashes=state.crashes.added(
            crashes_u + crashes_w, crashes_c, crash_share, g, fail_null=g.zero
        ),
        latency=state.latency.added(frame, g),
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
