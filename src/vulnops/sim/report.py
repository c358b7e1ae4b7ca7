"""The rollout benchmark's results as a Markdown table and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vulnops.sim import scenarios
from vulnops.sim.bench import POLICIES

TEN_THOUSAND_SECONDS = 30


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _stages(row: dict[str, Any]) -> str:
    found = row["halted_at"]
    return ", ".join(f"{count} {kind}" for kind, count in sorted(found.items())) or "—"


def markdown(results: dict[str, Any]) -> str:
    rows = results["rows"]
    lines = [
        "### Good fix: time until the whole fleet runs it",
        "",
        "Held: neither completed nor halted within 7 days — a gate that never found the evidence"
        " to pass holds the rollout and alerts (it never passes without evidence). Hours are"
        " over the completed runs.",
        "",
        "| policy | fleet | runs | completed | false halts | held | hours p50 | hours p95 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for fleet in ("small", "large"):
        for policy in POLICIES:
            row = _find(rows, policy, fleet, "good")
            if row is None:
                continue
            lines.append(
                f"| {policy} | {fleet} | {row['runs']} | {row['completed']} | {row['halted']}"
                f" | {row['stuck']} | {_hours(row['hours_p50'])} | {_hours(row['hours_p95'])} |"
            )
    lines += [
        "",
        "### Bad fixes: caught where, and the exposure",
        "",
        "Exposure: requests the faulty release served where it is faulty, before it was rolled"
        " back (or within 7 days when it was not caught), as a share of one day of the"
        " service's whole traffic.",
        "",
        "| fix | policy | fleet | caught | where | hours to halt p50 | exposure p50 |"
        " exposure p95 |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for fix in scenarios.FIXES:
        if fix == "good":
            continue
        for fleet in ("small", "large"):
            for policy in POLICIES:
                row = _find(rows, policy, fleet, fix)
                if row is None:
                    continue
                lines.append(
                    f"| {fix} | {policy} | {fleet} | {row['halted']}/{row['runs']} | "
                    f"{_stages(row)} | {_hours(row['halted_hours_p50'])} | "
                    f"{row['exposure_p50']:.4%} | {row['exposure_p95']:.4%} |"
                )
    lines += [
        "",
        "### Targets",
        "",
        "| fleet | target | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    for target in results["targets"]:
        met = "yes" if target["met"] else "**missed**"
        lines.append(f"| {target['fleet']} | {target['target']} | {target['measured']} | {met} |")
    big = results["ten_thousand_units"]
    if big is not None:
        met = "yes" if big["wall_seconds"] < TEN_THOUSAND_SECONDS else "**missed**"
        lines.append(
            f"| 10k | a full rollout of {big['units']:,} units simulated in < 30 s | "
            f"{big['wall_seconds']:.1f} s for {big['virtual_hours']:.1f} virtual hours, "
            f"{big['max_parallel_units']} units deploying at once | {met} |"
        )
    lines += [
        "",
        f"All {results['runs']:,} runs took {results['wall_seconds'] / 60:.1f} minutes.",
        "",
    ]
    return "\n".join(lines)


def _find(rows: list[dict[str, Any]], policy: str, fleet: str, fix: str) -> dict[str, Any] | None:
    return next(
        (r for r in rows if (r["policy"], r["fleet"], r["fix"]) == (policy, fleet, fix)), None
    )


def plot(results: dict[str, Any], path: Path) -> bool:
    """Time-to-fleet and exposure per policy on the largest fleet run (SVG); False when
    matplotlib is not installed."""
    try:  # an optional dependency (vulnops[bench]); the table does without it
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return False
    rows = results["rows"]
    fleet = "large" if any(r["fleet"] == "large" for r in rows) else "small"
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    names = [p for p in POLICIES if _find(rows, p, fleet, "good")]
    hours = [(_find(rows, p, fleet, "good") or {}).get("hours_p50") or 0 for p in names]
    left.barh(names, hours, color="#2b6cb0")
    left.set_xscale("log")
    left.set_xlabel("hours until the whole fleet runs a good fix (median, log scale)")
    left.invert_yaxis()
    fixes = [f for f in scenarios.FIXES if f != "good"]
    width = 0.8 / max(len(names), 1)
    for index, policy in enumerate(names):
        values = [
            max((_find(rows, policy, fleet, fix) or {}).get("exposure_mean", 0.0) * 100, 1e-5)
            for fix in fixes
        ]
        right.bar([i + index * width for i in range(len(fixes))], values, width, label=policy)
    right.set_yscale("log")
    right.set_ylabel("exposure, % of a day's traffic (mean, log scale)")
    right.set_xticks([i + 0.4 - width / 2 for i in range(len(fixes))], fixes, rotation=30)
    right.legend(fontsize=7)
    figure.suptitle(f"Rollout benchmark, {fleet} fleet")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def write(results: dict[str, Any], directory: Path) -> list[Path]:
    """rollout.json, rollout.md and (with matplotlib) rollout.svg in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "rollout.json", directory / "rollout.md"]
    written[0].write_text(json.dumps(results, indent=2) + "\n")
    written[1].write_text(markdown(results))
    if plot(results, directory / "rollout.svg"):
        written.append(directory / "rollout.svg")
    return written
