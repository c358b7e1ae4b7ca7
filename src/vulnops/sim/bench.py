"""The rollout benchmark: every policy, fleet, release and seed, in virtual time; the figures and
the targets (``vulnops bench rollout``, also run by ``make bench``)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from vulnops.sim import scenarios
from vulnops.sim.judging import SequentialGate
from vulnops.sim.runner import Outcome, Strategy, simulate

EPOCH = datetime(2026, 11, 2, tzinfo=UTC)
POLICIES = list(scenarios.strategies(None, frozenset()))


@dataclass(frozen=True)
class Task:
    policy: str
    fleet: str
    fix: str
    seed: int


@dataclass(frozen=True)
class Counts:
    """How many seeds each kind of run gets."""

    good: int = 100
    good_vulnops: int = 1000  # false halts are measured over at least this many good-fix runs
    bad: int = 40
    large_factor: float = 0.25  # the large fleet runs this share of the seeds

    def runs(self, policy: str, fleet: str, fix: str) -> int:
        if fix == "good":
            base = self.good_vulnops if policy.startswith("vulnops") else self.good
        else:
            base = self.bad
        return max(1, round(base * (self.large_factor if fleet == "large" else 1)))


QUICK = Counts(good=4, good_vulnops=4, bad=3, large_factor=0.5)


def run_task(task: Task) -> tuple[Task, Outcome]:
    fleet = scenarios.fleet(task.fleet)
    fault = scenarios.FIXES[task.fix]
    virtual = fleet.virtual(task.seed)
    affected = frozenset(int(i) for i in np.flatnonzero(virtual.affected(fault)))
    strategy = scenarios.strategies(fault, affected)[task.policy]
    start = EPOCH + timedelta(minutes=(task.seed * 397) % 1440)  # any time of day
    outcome = simulate(
        virtual, scenarios.plan(task.fleet), strategy, fault=fault, start=start, seed=task.seed
    )
    return task, outcome


def tasks(counts: Counts, fleets: Sequence[str]) -> list[Task]:
    return [
        Task(policy, fleet, fix, seed)
        for fleet in fleets
        for fix in scenarios.FIXES
        for policy in POLICIES
        for seed in range(counts.runs(policy, fleet, fix))
    ]


def _quantile(values: Sequence[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if values else None


def summarize(policy: str, fleet: str, fix: str, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    halted = [o for o in outcomes if o.halted_stage is not None]
    completed = [o for o in outcomes if o.completed]
    row: dict[str, Any] = {
        "policy": policy,
        "fleet": fleet,
        "fix": fix,
        "runs": len(outcomes),
        "completed": len(completed),
        "halted": len(halted),
        "stuck": len(outcomes) - len(completed) - len(halted),
        "hours_p50": _quantile([o.hours for o in completed], 0.5),
        "hours_p95": _quantile([o.hours for o in completed], 0.95),
        "halted_at": dict(Counter(o.halted_kind for o in halted)),
        "halt_reasons": dict(Counter(o.reason.split(" (")[0][:60] for o in halted).most_common(4)),
        "halted_hours_p50": _quantile([o.halted_hours for o in halted if o.halted_hours], 0.5),
        "exposure_p50": _quantile([o.exposure for o in outcomes], 0.5),
        "exposure_p95": _quantile([o.exposure for o in outcomes], 0.95),
        "exposure_mean": float(np.mean([o.exposure for o in outcomes])),
    }
    return row


def ten_thousand_units(parallel: int = 200) -> dict[str, Any]:
    """Wall time of one full vulnops rollout of a good release over about 10,000 units (the
    standard policy, with ``parallel`` units deploying at once: 20 would take two days)."""
    fleet = scenarios.fleet("10k")
    standard = scenarios.strategies(None, frozenset())["vulnops standard"]
    policy = standard.policy.model_copy(update={"max_parallel_units": parallel})
    strategy = Strategy("vulnops standard", policy, lambda: SequentialGate(policy.gates))
    started = time.perf_counter()
    outcome = simulate(
        fleet.virtual(0), scenarios.plan("10k"), strategy, fault=None, start=EPOCH, seed=0
    )
    return {
        "units": len(fleet.units),
        "max_parallel_units": parallel,
        "wall_seconds": time.perf_counter() - started,
        "virtual_hours": outcome.hours,
        "completed": outcome.completed,
    }


def run(
    counts: Counts,
    *,
    fleets: Sequence[str] = ("small", "large"),
    workers: int | None = None,
    ten_thousand: bool = True,
) -> dict[str, Any]:
    todo = tasks(counts, fleets)
    started = time.perf_counter()
    grouped: dict[tuple[str, str, str], list[Outcome]] = {}
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        for task, outcome in pool.map(run_task, todo, chunksize=8):
            grouped.setdefault((task.policy, task.fleet, task.fix), []).append(outcome)
    rows = [summarize(*key, outcomes) for key, outcomes in grouped.items()]
    return {
        "counts": asdict(counts),
        "runs": len(todo),
        "wall_seconds": time.perf_counter() - started,
        "requests_per_second": scenarios.REQUESTS_PER_SECOND,
        "rows": rows,
        "targets": targets(rows),
        "ten_thousand_units": ten_thousand_units() if ten_thousand else None,
    }


def _row(rows: Iterable[dict[str, Any]], policy: str, fleet: str, fix: str) -> dict[str, Any]:
    return next(r for r in rows if (r["policy"], r["fleet"], r["fix"]) == (policy, fleet, fix))


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured and whether it was met (per fleet)."""
    found = []
    fleets = sorted({r["fleet"] for r in rows})
    for fleet in fleets:

        def get(policy: str, fix: str, fleet: str = fleet) -> dict[str, Any]:
            return _row(rows, policy, fleet, fix)

        ours = get("vulnops standard", "good")
        mine = ours["hours_p50"] or float("inf")
        bake24 = get("fixed bake 24h", "good")["hours_p50"]
        bake1 = get("fixed bake 1h", "good")["hours_p50"]
        oracle = get("oracle", "good")["hours_p50"]
        found.append(
            _target(
                fleet,
                "good fix: whole fleet ≥10x sooner than the 24 h fixed bake",
                f"{mine:.2f} h vs {_hours(bake24)}",
                (bake24 is not None and mine * 10 <= bake24) or bake24 is None,
            )
        )
        found.append(
            _target(
                fleet,
                "good fix: sooner than the 1 h fixed bake",
                f"{mine:.2f} h vs {_hours(bake1)}",
                bake1 is None or mine < bake1,
            )
        )
        found.append(
            _target(
                fleet,
                "good fix: within 1.5x of the oracle",
                f"{mine:.2f} h vs {_hours(oracle)} ({mine / oracle:.2f}x)" if oracle else "—",
                oracle is not None and mine <= 1.5 * oracle,
            )
        )
        double = get("vulnops standard", "errors x2")
        early = sum(double["halted_at"].get(k, 0) for k in ("canary", "pilot"))
        found.append(
            _target(
                fleet,
                "errors x2: caught in 100% of runs, at canary or pilot, exposure < 0.1%",
                f"{early}/{double['runs']} at canary or pilot, exposure p95 "
                f"{double['exposure_p95']:.4%}",
                early == double["runs"] and double["exposure_p95"] < 0.001,
            )
        )
        for fix in ("errors x1.25", "errors x5 on 5% config"):
            mine_row = get("vulnops standard", fix)
            others = [get(p, fix) for p in ("Kayenta-style", "Argo-style")]
            better = all(
                mine_row["halted"] / mine_row["runs"] >= o["halted"] / o["runs"]
                and mine_row["exposure_mean"] <= o["exposure_mean"]
                for o in others
            )
            found.append(
                _target(
                    fleet,
                    f"{fix}: caught more often, with less exposure, than Kayenta and Argo",
                    ", ".join(
                        f"{r['policy']} {r['halted']}/{r['runs']} caught, exposure mean "
                        f"{r['exposure_mean']:.4%}"
                        for r in [mine_row, *others]
                    ),
                    better,
                )
            )
        false_halts = sum(
            get(p, "good")["halted"] for p in ("vulnops standard", "vulnops expedited")
        )
        good_runs = sum(get(p, "good")["runs"] for p in ("vulnops standard", "vulnops expedited"))
        found.append(
            _target(
                fleet,
                "false halts on good fixes ≤ 1%",
                f"{false_halts}/{good_runs} ({false_halts / good_runs:.2%})",
                false_halts <= 0.01 * good_runs,
            )
        )
    return found


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} h"


def _target(fleet: str, what: str, measured: str, met: bool) -> dict[str, Any]:
    return {"fleet": fleet, "target": what, "measured": measured, "met": bool(met)}
