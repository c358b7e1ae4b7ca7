"""The rollout benchmark's targets (the issues'), each with what was measured and whether it
was met."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vulnops.rollout.policy import load_policies

ALPHA = load_policies()["standard"].gates.alpha


def _row(rows: Iterable[dict[str, Any]], policy: str, fleet: str, fix: str) -> dict[str, Any]:
    return next(r for r in rows if (r["policy"], r["fleet"], r["fix"]) == (policy, fleet, fix))


def check(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
            others = [get(p, fix) for p in ("Kayenta", "Argo-style")]
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
        for policy in ("vulnops standard", "vulnops expedited"):
            good = get(policy, "good")
            runs, halted, held = good["runs"], good["halted"], good["stuck"]
            found.append(
                _target(
                    fleet,
                    f"{policy}: false halts on good fixes ≤ 1% (alpha = {ALPHA:g} per stage)",
                    f"{halted}/{runs} ({halted / runs:.2%}, 95% CI up to "
                    f"{good['halted_ci'][1]:.2%})",
                    halted <= 0.01 * runs,
                )
            )
            found.append(
                _target(
                    fleet,
                    f"{policy}: good fixes held ≤ 0.5%",
                    f"{held}/{runs} ({held / runs:.2%}, 95% CI up to {good['stuck_ci'][1]:.2%})",
                    held <= 0.005 * runs,
                )
            )
    return found


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} h"


def _target(fleet: str, what: str, measured: str, met: bool) -> dict[str, Any]:
    return {"fleet": fleet, "target": what, "measured": measured, "met": bool(met)}
