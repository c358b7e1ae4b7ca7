"""The rollout benchmark: every policy, fleet, release and seed, in virtual time; the figures and
the targets (``vulnops bench rollout``, also run by ``make bench``)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from vulnops.sim import intervals, scenarios, targets
from vulnops.sim.baselines.own_history import Limits, Worst
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
    limits: Limits | None = None  # a tuned policy's; infinite when not given


@dataclass(frozen=True)
class Counts:
    """How many seeds each kind of run gets: every policy the same number of good fixes on
    every fleet (false halts and holds are shares of those), fewer bad fixes on the large
    fleet (each is caught or not; the large fleet's runs cost the most)."""

    good: int = 1000
    bad: int = 40
    tune: int = 500  # good-fix runs, on seeds of their own, that set the tuned limits
    large_factor: float = 0.4  # the share of the bad-fix seeds the large fleet runs

    def runs(self, fleet: str, fix: str) -> int:
        if fix == "good":
            return self.good
        return max(1, round(self.bad * (self.large_factor if fleet == "large" else 1)))


QUICK = Counts(good=4, bad=3, tune=8, large_factor=0.5)
TUNE_SEEDS_FROM = 1_000_000  # tuning never sees a seed it is measured on
FALSE_HALT_TARGET = 0.01


def run_task(task: Task) -> tuple[Task, Outcome, Worst]:
    fleet = scenarios.fleet(task.fleet)
    fault = scenarios.FIXES[task.fix]
    virtual = fleet.virtual(task.seed)
    affected = frozenset(int(i) for i in np.flatnonzero(virtual.affected(fault)))
    worst = Worst()
    limits = {task.policy: task.limits} if task.limits is not None else None
    strategy = scenarios.strategies(fault, affected, limits, worst)[task.policy]
    start = EPOCH + timedelta(minutes=(task.seed * 397) % 1440)  # any time of day
    outcome = simulate(
        virtual, scenarios.plan(task.fleet), strategy, fault=fault, start=start, seed=task.seed
    )
    return task, outcome, worst


def tuning_tasks(counts: Counts, fleets: Sequence[str]) -> list[Task]:
    return [
        Task(policy, fleet, "good", TUNE_SEEDS_FROM + seed)
        for fleet in fleets
        for policy in scenarios.TUNED
        for seed in range(counts.tune)
    ]


def tuned(worsts: Sequence[Worst], target: float = FALSE_HALT_TARGET) -> Limits:
    """Limits that about ``target`` of these good runs would have crossed: each ratio's
    quantile at ``1 - target / 2``, so that the two together halt at most ``target``."""
    q = 1 - target / 2
    return Limits(
        error_ratio=float(np.quantile([w.error for w in worsts], q)),
        latency_ratio=float(np.quantile([w.latency for w in worsts], q)),
    )


def tasks(
    counts: Counts, fleets: Sequence[str], limits: Mapping[tuple[str, str], Limits] | None = None
) -> list[Task]:
    limits = limits or {}
    return [
        Task(policy, fleet, fix, seed, limits.get((fleet, policy)))
        for fleet in fleets
        for fix in scenarios.FIXES
        for policy in POLICIES
        for seed in range(counts.runs(fleet, fix))
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
        "halted_ci": intervals.share(len(halted), len(outcomes)),
        "stuck_ci": intervals.share(len(outcomes) - len(completed) - len(halted), len(outcomes)),
        "hours_p50_ci": intervals.median([o.hours for o in completed]),
        "exposure_mean_ci": intervals.mean([o.exposure for o in outcomes]),
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


def _pool_map(pool: ProcessPoolExecutor, todo: Sequence[Task]) -> list[tuple[Task, Outcome, Worst]]:
    return list(pool.map(run_task, todo, chunksize=8))


def run(
    counts: Counts,
    *,
    fleets: Sequence[str] = ("small", "large"),
    workers: int | None = None,
    ten_thousand: bool = True,
) -> dict[str, Any]:
    """Tune the tuned policies' limits on good fixes (seeds of their own), then run every
    policy, fleet and fix with them."""
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        tuning = _pool_map(pool, tuning_tasks(counts, fleets))
        seen: dict[tuple[str, str], list[Worst]] = {}
        for task, _, worst in tuning:
            seen.setdefault((task.fleet, task.policy), []).append(worst)
        limits = {key: tuned(worsts) for key, worsts in seen.items()}
        todo = tasks(counts, fleets, limits)
        grouped: dict[tuple[str, str, str], list[Outcome]] = {}
        for task, outcome, _ in _pool_map(pool, todo):
            grouped.setdefault((task.policy, task.fleet, task.fix), []).append(outcome)
    rows = [summarize(*key, outcomes) for key, outcomes in grouped.items()]
    return {
        "counts": asdict(counts),
        "runs": len(todo) + len(tuning),
        "wall_seconds": time.perf_counter() - started,
        "requests_per_second": scenarios.REQUESTS_PER_SECOND,
        "limits": [
            {
                "fleet": fleet,
                "policy": policy,
                **asdict(found),
                "tuned_on": len(seen[fleet, policy]),
            }
            for (fleet, policy), found in sorted(limits.items())
        ],
        "rows": rows,
        "targets": targets.check(rows),
        "ten_thousand_units": ten_thousand_units() if ten_thousand else None,
    }
