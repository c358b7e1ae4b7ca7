"""The rollout benchmark's runner and baselines, in virtual time without a database: the real
plan, decide and gates on the simulated fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.samples import UnitSample, Window
from vulnops.sim import bench, report, scenarios
from vulnops.sim.baselines.argo import ArgoAnalysis
from vulnops.sim.baselines.fixed_bake import FixedBake
from vulnops.sim.model import Fault
from vulnops.sim.runner import Outcome


def _run(policy: str, fix: str, seed: int = 3, fleet: str = "small") -> Outcome:
    return bench.run_task(bench.Task(policy, fleet, fix, seed))[1]


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
    late = _run("fixed bake 24h", "errors x2")
    assert late.halted_hours is not None and late.halted_hours >= 24
    assert late.exposure > caught.exposure


def test_the_same_seed_gives_the_same_run() -> None:
    assert _run("vulnops standard", "errors x1.25", seed=9) == _run(
        "vulnops standard", "errors x1.25", seed=9
    )


def test_crashes_that_start_after_a_stage_passed_are_still_caught() -> None:
    outcome = _run("vulnops standard", "crashes after 30m")
    assert outcome.halted_stage is not None and outcome.reason.startswith("crashes")


def _window(errors: float, latency: float = 80.0, requests: float = 10_000) -> Window:
    sample = UnitSample(requests=requests, errors=errors, crashes=0, latency_ms=latency)
    control = UnitSample(requests=requests, errors=40, latency_ms=80.0)
    return Window(updated={1: sample}, control={2: control})


def test_argo_fails_on_the_first_failed_measurement_and_on_missing_data() -> None:
    analysis = ArgoAnalysis()
    analysis.observe(_window(errors=40))
    assert analysis.verdict(baked=False, has_control=True).kind is VerdictKind.PASS
    analysis.observe(_window(errors=200))  # 2%: above the 1% condition
    failed = analysis.verdict(baked=True, has_control=True)
    assert failed.kind is VerdictKind.FAIL and "error rate" in failed.reason
    silent = ArgoAnalysis()
    for _ in range(4):  # consecutiveErrorLimit 4: the fifth error in a row fails
        silent.observe(Window(updated={}, control={}))
    assert silent.verdict(baked=True, has_control=True).kind is VerdictKind.PENDING
    silent.observe(Window(updated={}, control={}))
    assert silent.verdict(baked=True, has_control=True).kind is VerdictKind.FAIL


def test_a_fixed_bake_looks_only_when_the_bake_is_over() -> None:
    bake = FixedBake()
    bake.observe(_window(errors=400))
    assert bake.verdict(baked=False, has_control=True).kind is VerdictKind.PENDING
    assert bake.verdict(baked=True, has_control=True).kind is VerdictKind.FAIL
    fine = FixedBake()
    fine.observe(_window(errors=45))
    assert fine.verdict(baked=True, has_control=True).kind is VerdictKind.PASS


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
    assert "| vulnops standard | small |" in table and "### Targets" in table
    assert len(results["rows"]) == len(bench.POLICIES) * len(scenarios.FIXES)
    assert (tmp_path / "rollout.svg").read_text().startswith("<?xml")
