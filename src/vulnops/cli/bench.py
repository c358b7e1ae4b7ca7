"""``vulnops bench rollout``: the rollout policies side by side, in virtual time."""

from __future__ import annotations

from pathlib import Path

import typer

from vulnops.cli.common import console, group

app = group("Benchmarks that need no database.")


@app.command("rollout")
def rollout(
    out: Path = typer.Option(Path("benchmarks/results"), "--out", help="Where to write."),
    quick: bool = typer.Option(False, "--quick", help="A few seeds only (a smoke test)."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: cores)."),
) -> None:
    """Run every policy on the simulated fleets; write rollout.json, rollout.md, rollout.svg."""
    from vulnops.sim import bench, report

    counts = bench.QUICK if quick else bench.Counts()
    fleets = ("small", "large")
    planned = len(bench.tuning_tasks(counts, fleets)) + len(bench.tasks(counts, fleets))
    console.print(f"{planned:,} simulated rollouts (the tuning runs first)…")
    results = bench.run(counts, fleets=fleets, workers=workers)
    for path in report.write(results, out):
        console.print(str(path))
    missed = [t for t in results["targets"] if not t["met"]]
    for target in missed:
        console.print(
            f"[yellow]missed[/yellow] ({target['fleet']}) {target['target']}: {target['measured']}"
        )
