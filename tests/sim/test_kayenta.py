"""The Kayenta judge's classifier against Kayenta's own test suites (``data/README.md``): every
Mann-Whitney case of ``ClassifierSuite.scala`` and every case of ``MannWhitneySuite.scala``,
with the expected values and tolerances Kayenta asserts; then the scorer and the judge."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri
from scipy.stats import rankdata

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Frame, UnitSample, Window
from vulnops.sim.baselines import mann_whitney
from vulnops.sim.baselines.kayenta import Classification, KayentaJudge, classify, score

SUITES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "kayenta_suites.json").read_text()
)
E = SUITES["tolerance"]
CASES = SUITES["classifier_cases"]


def _run(case: dict[str, Any]) -> Classification:
    settings = case["classifier"]
    return classify(
        case["experiment"],
        case["control"],
        tolerance=settings["tolerance"],
        confidence=settings["confLevel"],
        direction=case["direction"],
        effect_size_measure=settings.get("effectSizeMeasure", "meanRatio"),
        effect_size_thresholds=tuple(settings.get("effectSizeThresholds", (1.0, 1.0))),
        critical_thresholds=tuple(settings.get("criticalThresholds", (1.0, 1.0))),
        critical=case["critical_metric"],
        nan_strategy=case["nan_strategy"],
    )


def test_every_mann_whitney_case_of_the_classifier_suite_is_here() -> None:
    assert len(CASES) == 34
    assert all("expect_label" in c or "expect_reason" in c for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_classifier_suite(case: dict[str, Any]) -> None:
    result = _run(case)
    if "expect_label" in case:
        assert result.label == case["expect_label"]
    if "expect_critical" in case:
        assert result.critical is case["expect_critical"]
    if case.get("expect_deviation") == "NaN":
        assert math.isnan(result.deviation)
    elif "expect_deviation" in case:
        assert result.deviation == case["expect_deviation"]
    if case.get("expect_reason"):
        assert result.reason


def _arrays(case: dict[str, Any], x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(case[x], dtype=float), np.asarray(case[y], dtype=float)


def test_the_wilcoxon_diff_function() -> None:
    case = SUITES["wilcoxon_diff"]
    x, y = _arrays(case, "x", "y")
    for expected in case["expect"]:
        found = mann_whitney.wilcoxon_diff(expected["mu"], expected["quantile"], x, y)
        assert found == pytest.approx(expected["value"], abs=E)


def test_the_z_quantile() -> None:
    case = SUITES["z_quantile"]
    assert float(ndtri(case["p"])) == pytest.approx(case["value"], abs=E)


@pytest.mark.parametrize(
    "case", SUITES["interval_cases"], ids=[c["name"] for c in SUITES["interval_cases"]]
)
def test_the_interval_and_estimate_tie_out_with_kayenta_and_r(case: dict[str, Any]) -> None:
    x, y = _arrays(case, "experiment", "control")
    lower, upper, estimate = mann_whitney.interval(x, y, case["confidence"])
    assert lower == pytest.approx(case["lower"], abs=E)
    assert upper == pytest.approx(case["upper"], abs=E)
    assert estimate == pytest.approx(case["estimate"], abs=case["estimate_tolerance"])


def test_the_intermediate_values() -> None:
    case = SUITES["intermediate"]
    x, y = _arrays(case, "x", "y")
    lowest, highest = float(x.min() - y.max()), float(x.max() - y.min())
    assert lowest == pytest.approx(case["mu_min"], abs=E)
    assert highest == pytest.approx(case["mu_max"], abs=E)
    z_lower = -float(ndtri((1 - case["confidence"]) / 2))
    z_upper = -z_lower
    assert z_lower == pytest.approx(case["zq_lower"], abs=E)

    def diff(quantile: float) -> Any:
        return lambda mu: mann_whitney.wilcoxon_diff(mu, quantile, x, y)

    f = {
        name: diff(q)(mu)
        for name, q, mu in (
            ("f_lower1", z_lower, lowest),
            ("f_upper1", z_lower, highest),
            ("f_lower2", z_upper, lowest),
            ("f_upper2", z_upper, highest),
        )
    }
    for name, value in f.items():
        assert value == pytest.approx(case[name], abs=E)
    solve = mann_whitney.brent_zero
    ci_lower = solve(diff(z_lower), lowest, highest, f["f_lower1"], f["f_upper1"])
    ci_upper = solve(diff(z_upper), lowest, highest, f["f_lower2"], f["f_upper2"])
    estimate = solve(diff(0.0), lowest, highest, diff(0.0)(lowest), diff(0.0)(highest))
    assert ci_lower == pytest.approx(case["ci_lower"], abs=E)
    assert ci_upper == pytest.approx(case["ci_upper"], abs=E)
    assert estimate == pytest.approx(case["estimate"], abs=E)


def test_the_large_high_case_no_longer_collapses_to_zero() -> None:
    """The finding: the order-statistic interval gave (0, 0) on this mostly-zero input."""
    case = next(c for c in CASES if c["name"].endswith("High Metric (Large Input)"))
    result = _run(case)
    assert result.interval is not None and result.interval[0] > 0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="nan_strategy"):
        classify([1.0], [2.0], nan_strategy="drop")
    with pytest.raises(ValueError, match="direction"):
        classify([1.0], [2.0], direction="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="effect_size_measure"):
        classify([1.0], [2.0], effect_size_measure="cohen")


def test_a_metric_that_must_have_data_fails_without_failing_the_canary() -> None:
    missing = classify([], [1.0, 2.0], data_required=True)
    assert missing.label == "NodataFailMetric" and not missing.critical
    assert missing.reason == "Missing data in the canary"


def test_the_interval_covers_the_true_shift_as_often_as_it_claims() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(400):
        x, y = rng.normal(3.0, 1.0, 40), rng.normal(0.0, 1.0, 30)
        low, high, estimate = mann_whitney.interval(x, y, 0.95)
        assert low <= estimate <= high
        covered += low <= 3.0 <= high
    assert 0.92 <= covered / 400 <= 0.98


def _label(label: str, *, critical: bool = False) -> Classification:
    return Classification(label, critical, None, None, 1.0, None)  # type: ignore[arg-type]


def test_the_weighted_sum_score() -> None:
    assert score({"a": _label("Pass"), "b": _label("High"), "c": _label("Pass")})[0] == 66.67
    assert score({"a": _label("Pass"), "b": _label("NodataFailMetric")})[0] == 50.0
    assert score({"a": _label("Pass"), "b": _label("Error")})[0] == 100.0
    critical = score({"a": _label("Pass"), "b": _label("Nodata", critical=True)})
    assert critical == (0.0, "critical metric failed: b Nodata")
    half = score({"a": _label("Pass"), "b": _label("Nodata")})
    assert half == (0.0, "50% or more metrics returned NODATA")
    assert score({"a": _label("Pass"), "b": _label("Nodata"), "c": _label("Pass")})[0] == 100.0


def _window(errors: float, baseline_errors: float) -> Window:
    def sample(e: float) -> UnitSample:
        return UnitSample(requests=10_000.0, errors=e, crashes=0.0, latency_ms=50.0)

    return Window(updated={1: sample(errors)}, control={1: sample(baseline_errors)})


def test_the_judge_fails_an_interim_score_at_marginal_and_passes_at_the_end() -> None:
    rng = np.random.default_rng(3)
    bad = KayentaJudge()
    for _ in range(60):
        bad.observe(Frame.of(_window(float(rng.poisson(30)), float(rng.poisson(10)))))
    assert bad.judged.kind == VerdictKind.FAIL
    assert bad.judged.reason.startswith("interim score 67 (error_percent High")
    good = KayentaJudge()
    for minute in range(180):
        good.observe(Frame.of(_window(float(rng.poisson(10)), float(rng.poisson(10)))))
        if minute < 179:
            assert good.judged.kind != VerdictKind.PASS
    assert good.elapsed == timedelta(hours=3)
    assert good.judged.kind == VerdictKind.PASS and good.judged.reason.startswith("final score")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
    st.sampled_from([0.0, 0.5, 1.0, -2.0, 0.25]),
    st.sampled_from([0.0, 1.96, -2.33]),
)
def test_the_statistic_counted_by_pairs_equals_the_one_by_ranks(
    x: list[int], y: list[int], mu: float, quantile: float
) -> None:
    """What ranking the combined sample (as Kayenta does) gives, ties and all."""
    xs, ys = np.asarray(x, dtype=float) / 2, np.asarray(y, dtype=float) / 2
    ranks = rankdata(np.concatenate([xs - mu, ys]))
    _, ties = np.unique(ranks, return_counts=True)
    m, n = xs.size, ys.size
    statistic = ranks[:m].sum() - m * (m + 1) / 2 - m * n / 2
    tie_term = (ties.astype(float) ** 3 - ties).sum() / ((m + n) * (m + n - 1))
    variance = (m * n / 12) * ((m + n + 1) - tie_term)
    if variance == 0:
        with pytest.raises(mann_whitney.AllTied):
            mann_whitney.wilcoxon_diff(mu, quantile, xs, ys)
        return
    expected = (statistic - 0.5 * np.sign(statistic)) / math.sqrt(variance) - quantile
    assert mann_whitney.wilcoxon_diff(mu, quantile, xs, ys) == pytest.approx(expected, rel=1e-12)
