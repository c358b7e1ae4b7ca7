"""Run the benchmarks named on the command line, or all of them."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys

from vulnops import wiring

BENCHMARKS = (
    "audit",
    "intake",
    "fleet",
    "notify",
    "lifecycle",
    "workqueue",
    "cli",
    "rollout",
    "oncall",
    "escalation",
    "bounty",
    "variants",
    "review",
)


def run(names: list[str]) -> None:
    wiring.wire()
    for name in names or BENCHMARKS:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name}", flush=True)
        print(json.dumps(asyncio.run(module.main()), indent=2), flush=True)


run(sys.argv[1:])
