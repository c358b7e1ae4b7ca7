"""The rollout policies side by side in virtual time (no database): see ``vulnops.sim.bench``."""

from __future__ import annotations

from typing import Any

from benchmarks.common import RESULTS
from vulnops.sim import bench, report


async def main() -> dict[str, Any]:
    results = bench.run(bench.Counts())
    report.write(results, RESULTS)
    return {"targets": results["targets"], "ten_thousand_units": results["ten_thousand_units"]}
