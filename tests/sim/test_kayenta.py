"""The Kayenta-style metric classifier, on the behaviour Kayenta's Mann-Whitney classifier
documents: High, Low, Pass and Nodata, the tolerance band, effect sizes, critical metrics."""

from __future__ import annotations

import numpy as np
import pytest

from vulnops.sim.baselines.kayenta import classify, mann_whitney_interval

RNG = np.random.default_rng(5)
CONTROL = list(RNG.normal(100, 5, 60))
SAME = list(RNG.normal(100, 5, 60))
HIGHER = list(RNG.normal(130, 5, 60))
LOWER = list(RNG.normal(70, 5, 60))


def test_a_clear_increase_is_high_and_a_decrease_low() -> None:
    high = classify(HIGHER, CONTROL)
    assert high.label == "High" and high.reason == "The metric was classified as High"
    assert high.interval is not None and high.interval[0] > 0.25 * abs(high.estimate or 0)
    assert 1.25 < high.deviation < 1.35  # meanRatio
    assert classify(LOWER, CONTROL).label == "Low"


def test_the_same_distribution_passes() -> None:
    assert classify(SAME, CONTROL).label == "Pass"
    identical = classify(CONTROL, list(reversed(CONTROL)))
    assert identical.label == "Pass" and identical.deviation == 1.0
    assert identical.reason == "The experiment and control data are identical"


def test_direction_limits_what_counts() -> None:
    assert classify(LOWER, CONTROL, direction="increase").label == "Pass"
    assert classify(HIGHER, CONTROL, direction="decrease").label == "Pass"
    assert classify(HIGHER, CONTROL, direction="increase").label == "High"


def test_the_tolerance_band_is_a_share_of_the_estimate() -> None:
    # A shift that is significant but inside a wide tolerance band passes.
    slightly = list(np.asarray(CONTROL) + 3)
    assert classify(slightly, CONTROL, tolerance=0.25).label == "High"
    assert classify(slightly, CONTROL, tolerance=2.0).label == "Pass"


def test_effect_size_thresholds_and_critical_metrics() -> None:
    assert classify(HIGHER, CONTROL, effect_size_thresholds=(1.0, 1.5)).label == "Pass"
    critical = classify(HIGHER, CONTROL, critical=True, critical_thresholds=(1.0, 1.2))
    assert critical.label == "High" and critical.critical
    assert critical.reason == "The metric was classified as High (Critical)"
    mild = classify(HIGHER, CONTROL, critical=True, critical_thresholds=(1.0, 2.0))
    assert mild.label == "High" and not mild.critical
    cles = classify(HIGHER, CONTROL, effect_size_measure="cles")
    assert cles.label == "High" and cles.deviation > 0.99


def test_missing_data_and_nan_strategies() -> None:
    nodata = classify([], CONTROL)
    assert nodata.label == "Nodata" and not nodata.critical
    assert classify([], CONTROL, critical=True, data_required=True).critical
    with_nan = [float("nan")] * 5 + HIGHER
    assert classify(with_nan, CONTROL, nan_strategy="remove").label == "High"
    assert classify([float("nan")] * 5, CONTROL, nan_strategy="remove").label == "Nodata"
    replaced = classify([float("nan")] * 60, CONTROL, nan_strategy="replace")
    assert replaced.label == "Low"  # NaN read as 0
    with pytest.raises(ValueError, match="nan_strategy"):
        classify(HIGHER, CONTROL, nan_strategy="drop")
    with pytest.raises(ValueError, match="direction"):
        classify(HIGHER, CONTROL, direction="up")  # type: ignore[arg-type]


def test_the_interval_covers_the_true_shift_as_often_as_it_claims() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(400):
        x, y = rng.normal(3.0, 1.0, 40), rng.normal(0.0, 1.0, 30)
        low, high, estimate = mann_whitney_interval(x, y, 0.95)
        assert low <= estimate <= high
        covered += low <= 3.0 <= high
    assert 0.92 <= covered / 400 <= 0.98
