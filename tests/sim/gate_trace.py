"""What a fixed-seed rollout's gates said, look by look: the trace that pins the gates' results
(``data/gate_trace.json`` was recorded from the per-unit gates the vectorized ones replaced)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from vulnops.rollout import gates
from vulnops.sim import bench
from vulnops.sim.judging import Judgement, SequentialGate

RUNS = (
    ("vulnops standard", "small", "good", 0),
    ("vulnops standard", "small", "errors x1.25", 1),
    ("vulnops expedited", "small", "latency +20%", 2),
    ("vulnops standard", "small", "crashes after 30m", 3),
    ("vulnops standard", "large", "good", 4),
    ("vulnops expedited", "large", "errors x5 on 5% config", 5),
)
FIGURES = (
    "errors_fail_e",
    "errors_pass_e",
    "crashes_fail_e",
    "latency_fail_e",
    "latency_pass_e",
    "error_ratio",
    "requests_updated",
)


def trace(policy: str, fleet: str, fix: str, seed: int) -> dict[str, Any]:
    """The run's outcome, and every verdict its gates gave: kind, reason, and the evidence."""
    looks: list[dict[str, Any]] = []
    original = SequentialGate.verdict

    def verdict(gate: SequentialGate, *, baked: bool, has_control: bool) -> Judgement:
        assert gate.state is not None
        full = gates.verdict(gate.state, gate.rules, baked=baked, has_control=has_control)
        figures = {name: float(full.stats[name]) for name in FIGURES}
        looks.append({"kind": full.kind.value, "reason": full.reason, **figures})
        return original(gate, baked=baked, has_control=has_control)

    SequentialGate.verdict = verdict  # type: ignore[method-assign]
    try:
        _, outcome, _ = bench.run_task(bench.Task(policy, fleet, fix, seed))
    finally:
        SequentialGate.verdict = original  # type: ignore[method-assign]
    return {"run": [policy, fleet, fix, seed], "outcome": asdict(outcome), "looks": looks}
