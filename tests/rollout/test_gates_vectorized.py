"""The gates compute over all units at once (numpy columns); here each vectorized piece against
a plain per-unit reference, on random windows (hypothesis): the baseline rates and latencies,
the capped and expected errors, the error share, the unusual units and the latency evidence."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnops.rollout import gates
from vulnops.rollout.evidence import LatencyEvidence, grids
from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import Columns, Frame, UnitSample, UnitTable, Window

UNITS = st.sampled_from([0, 1, 2, 3, 5, 8, 13, 40, 10**9, 2**40])
SAMPLE = st.builds(
    UnitSample,
    requests=st.one_of(st.just(0.0), st.floats(1, 1e6)),
    errors=st.floats(0, 5e4),
    crashes=st.floats(0, 20),
    latency_ms=st.one_of(st.none(), st.just(0.0), st.floats(1, 2000)),
)
GROUP = st.dictionaries(UNITS, SAMPLE, max_size=8)
WINDOW = st.builds(Window, updated=GROUP, control=GROUP, watched=GROUP)
RATES = st.dictionaries(UNITS, st.floats(1e-6, 0.2), max_size=8)
RULES = GateRules()


def _reference_rates(windows: list[Window]) -> tuple[dict[int, float], dict[int, float]]:
    per_unit: dict[int, list[UnitSample]] = defaultdict(list)
    for window in windows:
        for samples in (window.updated, window.control):
            for unit, sample in samples.items():
                if sample.requests > 0:
                    per_unit[unit].append(sample)
    rates, latency = {}, {}
    for unit, history in per_unit.items():
        median = float(np.median([h.errors / h.requests for h in history]))
        served = sum(h.requests for h in history)
        capped = sum(
            min(h.errors, gates.BURST_FACTOR * median * h.requests + gates.BURST_SLACK)
            for h in history
        )
        rates[unit] = max(capped / served, 1 / served)
        logs = [math.log(h.latency_ms) for h in history if h.latency_ms]
        if logs:
            latency[unit] = float(np.median(logs))
    return rates, latency


def _reference_capped(samples: dict[int, UnitSample], rates: dict[int, float]) -> float:
    total = 0.0
    for unit, sample in samples.items():
        rate = rates.get(unit)
        expected = sample.requests * rate if rate is not None else math.inf
        total += min(sample.errors, gates.BURST_FACTOR * expected + gates.BURST_SLACK)
    return total


def _reference_share(window: Window, rates: dict[int, float]) -> float:
    fallback = float(np.median(list(rates.values()))) if rates else 0.0
    expected = [
        sum(s.requests * rates.get(unit, fallback) for unit, s in group.items())
        for group in (window.updated, window.control)
    ]
    return expected[0] / sum(expected) if sum(expected) > 0 else 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(WINDOW, max_size=5))
def test_the_baseline_rates_and_latencies(windows: list[Window]) -> None:
    state = gates.start(windows, RULES)
    rates, latency = _reference_rates(windows)
    assert set(state.error_rates) == {str(u) for u in rates}
    for unit, rate in rates.items():
        assert state.error_rates[str(unit)] == pytest.approx(rate, rel=1e-12)
    assert set(state.latency.baseline) == {str(u) for u in latency}
    for unit, value in latency.items():
        assert state.latency.baseline[str(unit)] == pytest.approx(value, rel=1e-12, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(WINDOW, RATES)
def test_the_capped_errors_the_share_and_the_unusual_units(
    window: Window, rates: dict[int, float]
) -> None:
    table, frame = UnitTable(rates), Frame.of(window)
    for group, samples in ((frame.updated, window.updated), (frame.control, window.control)):
        found = gates._capped_errors(group, table)
        assert found == pytest.approx(_reference_capped(dict(samples), rates), rel=1e-12)
    assert gates._error_share(frame, table) == pytest.approx(
        _reference_share(window, rates), rel=1e-12, abs=1e-15
    )
    quiet = sorted(u for u, s in window.updated.items() if s.requests <= 0)
    noisy = sorted(
        u
        for u, s in window.updated.items()
        if u in rates
        and s.requests > 0
        and s.errors > gates.BURST_FACTOR * s.requests * rates[u] + gates.BURST_SLACK
    )
    assert gates.unusual_units(window, table) == (quiet, noisy)


@settings(max_examples=300, deadline=None)
@given(WINDOW, st.dictionaries(UNITS, st.floats(0, 8), max_size=8))
def test_the_latency_evidence(window: Window, baseline: dict[int, float]) -> None:
    g = grids(RULES)
    empty = [0.0] * g.shift.size
    evidence = LatencyEvidence(baseline=UnitTable(baseline), fail=empty, passing=empty)
    after = evidence.added(Frame.of(window), g)

    def residuals(samples: dict[int, UnitSample]) -> list[float]:
        return [
            math.log(s.latency_ms) - baseline[u]
            for u, s in samples.items()
            if s.latency_ms and s.requests > 0 and u in baseline
        ]

    updated, control = residuals(dict(window.updated)), residuals(dict(window.control))
    if not updated or not control:
        assert after is evidence
        return
    shift = float(np.mean(updated) - np.mean(control))
    assert after.intervals == 1
    assert after.df == len(updated) + len(control) - 2
    assert after.weighted_sum / after.information == pytest.approx(shift, rel=1e-9, abs=1e-12)


def test_columns_round_trip_and_tables_read_as_mappings() -> None:
    samples = {7: UnitSample(10.0, 1.0, 0.0, None), 3: UnitSample(5.0, 0.0, 1.0, 42.0)}
    assert Columns.of(samples).samples() == samples
    table = UnitTable({"7": 0.5, "3": 0.25})
    assert dict(table) == {"3": 0.25, "7": 0.5} and table.median == 0.375
    assert table.lookup(np.array([3, 4, 7]), -1.0).tolist() == [0.25, -1.0, 0.5]
    with pytest.raises(KeyError):
        table["4"]
    assert UnitTable({}).lookup(np.array([1]), 2.0).tolist() == [2.0]
