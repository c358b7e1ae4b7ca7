"""The rollout benchmark's runner and baselines, in virtual time without a database: the real
plan, decide and gates on the simulated fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import Frame, UnitSample, Window
from vulnops.sim import bench, report, scenarios
from vulnops.sim.baselines.argo import ArgoAnalysis
from vulnops.sim.baselines.fixed_bake import FixedBake
from vulnops.sim.baselines.kayenta import KayentaJudge
from vulnops.sim.baselines.own_history import Limits, Ratios, Worst
from vulnops.sim.model import Fault
from vulnops.sim.runner import Outcome


def _run(
    policy: str, fix: str, seed: int = 3, fleet: str = "small", limits: Limits | None = None
) -> Outcome:
    return bench.run_task(bench.Task(policy, fleet, fix, seed, limits))[1]


def test_a_good_fix_reaches_the_whole_fleet_no_sooner_than_the_oracle() -> None:
    ours = _run("vulnops standard", "good")
    oracle = _run("oracle", "good")
    assert ours.completed and oracle.completed
    assert ours.exposure == 0 and ours.halted_stage is None
    assert oracle.hours <= ours.hours < 1.5 * oracle.hours
    day = _run("fixed bake 24h", "good")
    assert not day.completed or day.hours > 10 * ours.hours


def test_a_bad_fix_is_halted_early_and_its_exposure_counted() -> None:
    caught = _run("vulnops standard", "errors x2")
    assert caught.halted_kind in {"canary", "pilot"} and not caught.completed
    assert 0 < caught.exposure < 0.001
    assert caught.reason.startswith("errors")
    late = _run("fixed bake 24h", "errors x2", limits=Limits(error_ratio=1.2, latency_ratio=1.2))
    assert late.halted_hours is not None and late.halted_hours >= 24
    assert late.exposure > caught.exposure


def test_the_same_seed_gives_the_same_run() -> None:
    assert _run("vulnops standard", "errors x1.25", seed=9) == _run(
        "vulnops standard", "errors x1.25", seed=9
    )


def test_crashes_that_start_after_a_stage_passed_are_still_caught() -> None:
    outcome = _run("vulnops standard", "crashes after 30m")
    assert outcome.halted_stage is not None and outcome.reason.startswith("crashes")


BEFORE = UnitSample(requests=10_000, errors=40, crashes=0, latency_ms=80.0)
LIMITS = Limits(error_ratio=1.5, latency_ratio=1.2)


def _window(errors: float, latency: float = 80.0, requests: float = 10_000) -> Window:
    sample = UnitSample(requests=requests, errors=errors, crashes=0, latency_ms=latency)
    return Window(updated={1: sample}, control={2: BEFORE})


def _history() -> list[Window]:
    return [Window(updated={1: BEFORE}, control={2: BEFORE})]


def test_argo_fails_on_the_first_failed_measurement_and_on_missing_data() -> None:
    analysis = ArgoAnalysis(limits=LIMITS)
    analysis.start([Frame.of(w) for w in _history()])
    analysis.observe(Frame.of(_window(errors=40)))
    assert analysis.verdict(baked=False, has_control=True).kind is VerdictKind.PASS
    analysis.observe(Frame.of(_window(errors=70)))  # 1.75x its own earlier rate: above 1.5
    failed = analysis.verdict(baked=True, has_control=True)
    assert failed.kind is VerdictKind.FAIL and failed.reason == "measurement failed: error rate"
    assert analysis.worst.error == pytest.approx(1.75)
    silent = ArgoAnalysis(limits=LIMITS)
    silent.start([Frame.of(w) for w in _history()])
    for _ in range(4):  # consecutiveErrorLimit 4: the fifth error in a row fails
        silent.observe(Frame.of(Window(updated={}, control={})))
    assert silent.verdict(baked=True, has_control=True).kind is VerdictKind.PENDING
    silent.observe(Frame.of(Window(updated={}, control={})))
    assert silent.verdict(baked=True, has_control=True).kind is VerdictKind.FAIL


def test_a_fixed_bake_looks_only_when_the_bake_is_over_against_the_units_own_history() -> None:
    bake = FixedBake(limits=LIMITS)
    bake.start([Frame.of(w) for w in _history()])
    bake.observe(Frame.of(_window(errors=40, latency=100.0)))  # latency 1.25x its own: above 1.2
    assert bake.verdict(baked=False, has_control=True).kind is VerdictKind.PENDING
    failed = bake.verdict(baked=True, has_control=True)
    assert failed.kind is VerdictKind.FAIL and failed.reason == "above the threshold: latency"
    fine = FixedBake(limits=LIMITS)
    fine.start([Frame.of(w) for w in _history()])
    fine.observe(Frame.of(_window(errors=55, latency=90.0)))
    assert fine.verdict(baked=True, has_control=True).kind is VerdictKind.PASS
    assert fine.worst.error == pytest.approx(55 / 40)


def test_crashes_fail_on_an_absolute_rate_once_there_are_enough() -> None:
    few = Ratios(error=1.0, latency=1.0, crashes=4, requests=1_000)
    assert few.failed(Limits()) == []  # 4 crashes: too few to judge, whatever the rate
    many = Ratios(error=1.0, latency=1.0, crashes=5, requests=1_000_000)
    assert many.failed(Limits()) == ["crash rate"]  # 5e-6 per request, above 1e-6
    assert Ratios(error=1.0, latency=1.0, crashes=5, requests=10_000_000).failed(Limits()) == []


def test_limits_are_tuned_to_the_false_halt_target_on_good_runs() -> None:
    worsts = [Worst(error=1 + i / 1000, latency=1 + i / 10_000) for i in range(1000)]
    limits = bench.tuned(worsts, target=0.01)
    halted = sum(w.halts(limits) for w in worsts)
    assert 5 <= halted <= 10  # each metric alone halts 0.5%; together at most 1%
    assert limits.error_ratio == pytest.approx(1.994005)  # the 99.5th percentile


def test_kayenta_compares_the_canary_with_a_baseline_cluster_of_the_same_units(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Frame] = []
    original = KayentaJudge.observe

    def spy(judge: KayentaJudge, frame: Frame) -> None:
        seen.append(frame)
        original(judge, frame)

    monkeypatch.setattr(KayentaJudge, "observe", spy)
    outcome = _run("Kayenta", "good", seed=1)
    compared = [f for f in seen if len(f.updated)]
    assert compared and all(f.control.units.tolist() == f.updated.units.tolist() for f in compared)
    assert outcome.completed  # a matched baseline does not fail a good fix


def test_the_configuration_fault_touches_about_one_unit_in_twenty() -> None:
    fleet = scenarios.fleet("large").virtual(0)
    share = fleet.affected(Fault(error_multiplier=5, only_tag=scenarios.CONFIG_TAG)).mean()
    assert 0.02 < share < 0.1


@pytest.mark.slow
def test_the_benchmark_writes_its_table_and_plot(tmp_path: Path) -> None:
    results = bench.run(bench.QUICK, fleets=("small",), ten_thousand=False)
    written = report.write(results, tmp_path)
    assert {p.name for p in written} == {"rollout.json", "rollout.md", "rollout.svg"}
    table = (tmp_path / "rollout.md").read_text()
    assert "| small | vulnops standard |" in table and "### Targets" in table
    assert table.startswith("## At matched false halts")
    assert len(results["rows"]) == len(bench.POLICIES) * len(scenarios.FIXES)
    assert (tmp_path / "rollout.svg").read_text().startswith("<?xml")
