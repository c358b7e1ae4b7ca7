"""The rollout benchmark's results as a Markdown table and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vulnops.sim import scenarios, targets
from vulnops.sim.bench import POLICIES

TEN_THOUSAND_SECONDS = 30
FLEETS = ("small", "large")


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _stages(row: dict[str, Any]) -> str:
    found = row["halted_at"]
    return ", ".join(f"{count} {kind}" for kind, count in sorted(found.items())) or "—"


def _share(count: int, runs: int, interval: list[float] | tuple[float, float]) -> str:
    return f"{count}/{runs} ({interval[0]:.1%} to {interval[1]:.1%})"


def _with_interval(value: float | None, interval: Any, fmt: str = "{:.2f}") -> str:
    if value is None:
        return "—"
    text = fmt.format(value)
    return (
        text if not interval else f"{text} ({fmt.format(interval[0])} to {fmt.format(interval[1])})"
    )


def _times(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.2g}x"


def headline(results: dict[str, Any]) -> list[str]:
    """The comparison at matched false halts: good fixes, then every bad fix, as ratios."""
    rows = results["rows"]
    lines = [
        "## At matched false halts",
        "",
        "Every policy runs the same stages on the same fleets and seeds. The fixed bakes and the"
        " Argo-style analysis compare each updated unit with its own health before the update,"
        " with limits tuned on good fixes (seeds of their own) to about 1% false halts — the"
        " limits are listed below; Kayenta runs a baseline cluster beside the canary with its"
        " default scoring (pass 95, marginal 75). vulnops promises alpha = "
        f"{targets.ALPHA:g} per stage and gate. Intervals are 95%: Wilson's for shares, order"
        " statistics for medians, a bootstrap for means. x is the ratio to vulnops standard.",
        "",
        "### Good fix: false halts, held, and the time until the whole fleet runs it",
        "",
        "| fleet | policy | false halts | held | hours to the whole fleet, p50 | x |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for fleet in FLEETS:
        ours = _find(rows, "vulnops standard", fleet, "good")
        for policy in POLICIES:
            row = _find(rows, policy, fleet, "good")
            if row is None or ours is None:
                continue
            lines.append(
                f"| {fleet} | {policy} | {_share(row['halted'], row['runs'], row['halted_ci'])}"
                f" | {_share(row['stuck'], row['runs'], row['stuck_ci'])}"
                f" | {_with_interval(row['hours_p50'], row['hours_p50_ci'])}"
                f" | {_times(row['hours_p50'], ours['hours_p50'])} |"
            )
    lines += [
        "",
        "### Bad fixes: caught, how soon, and the exposure",
        "",
        "Exposure: requests the faulty release served where it is faulty, before it was rolled"
        " back (or within 7 days when it was not caught), as a share of one day of the"
        " service's whole traffic.",
        "",
        "| fix | fleet | policy | caught | where | hours to halt p50 | exposure mean | x |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for fix in scenarios.FIXES:
        if fix == "good":
            continue
        for fleet in FLEETS:
            ours = _find(rows, "vulnops standard", fleet, fix)
            for policy in POLICIES:
                row = _find(rows, policy, fleet, fix)
                if row is None or ours is None:
                    continue
                lines.append(
                    f"| {fix} | {fleet} | {policy} | "
                    f"{_share(row['halted'], row['runs'], row['halted_ci'])} | {_stages(row)} | "
                    f"{_hours(row['halted_hours_p50'])} | "
                    f"{_with_interval(row['exposure_mean'], row['exposure_mean_ci'], '{:.4%}')} | "
                    f"{_times(row['exposure_mean'], ours['exposure_mean'])} |"
                )
    return lines


def markdown(results: dict[str, Any]) -> str:
    lines = headline(results)
    lines += [
        "",
        "### The tuned limits",
        "",
        "The worst ratio of the updated units' rate to their own earlier rate that the good"
        " fixes of the tuning seeds showed, at the 99.5th percentile for each of the two"
        " metrics (together about 1% of good runs).",
        "",
        "| fleet | policy | error ratio | latency ratio | good runs tuned on |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for limit in results["limits"]:
        lines.append(
            f"| {limit['fleet']} | {limit['policy']} | {limit['error_ratio']:.3f} | "
            f"{limit['latency_ratio']:.3f} | {limit['tuned_on']} |"
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
    """Per fleet, each policy as a point: the hours until a good fix runs on the whole fleet
    against the exposure to a bad fix (the mean over the bad fixes of each fix's mean exposure),
    both on log scales (SVG); False when matplotlib is not installed."""
    try:  # an optional dependency (vulnops[bench]); the table does without it
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return False
    rows = results["rows"]
    fleets = [f for f in FLEETS if any(r["fleet"] == f for r in rows)]
    figure, axes = plt.subplots(1, len(fleets), figsize=(6 * len(fleets), 5), squeeze=False)
    bad = [f for f in scenarios.FIXES if f != "good"]
    for axis, fleet in zip(axes[0], fleets, strict=True):
        for policy in POLICIES:
            good = _find(rows, policy, fleet, "good")
            exposures = [
                (_find(rows, policy, fleet, fix) or {}).get("exposure_mean") for fix in bad
            ]
            if good is None or good["hours_p50"] is None or None in exposures:
                continue
            exposure = 100 * sum(e for e in exposures if e is not None) / len(exposures)
            axis.scatter(good["hours_p50"], max(exposure, 1e-5), s=60)
            axis.annotate(
                policy,
                (good["hours_p50"], max(exposure, 1e-5)),
                fontsize=8,
                xytext=(5, 5),
                textcoords="offset points",
            )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("hours until the whole fleet runs a good fix (median)")
        axis.set_ylabel("exposure to a bad fix, % of a day's traffic (mean over the fixes)")
        axis.set_title(f"{fleet} fleet")
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle("Rollout benchmark: lower left is better")
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
