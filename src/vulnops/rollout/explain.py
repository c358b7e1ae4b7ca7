"""A stage's gate in plain words (pure): what it compares, what it has measured, how far the
evidence has come, and what it still needs — for the release manager who has to decide whether
to wait, roll back or abort, not for a statistician.

"How far the evidence has come" is the e-value on a log scale against the threshold that
decides: an e-value of 1 is no evidence (0%), the threshold is the decision (100%). It is how
the gate itself decides (``gates._failure`` and ``gates._still_missing``), so the percentages
move exactly as the decision approaches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vulnops.durations import humanize
from vulnops.rollout.decide import StageStatus
from vulnops.rollout.policy import GateRules


@dataclass(frozen=True)
class StageView:
    """What the explanation reads of a stage."""

    index: int
    kind: str
    status: str
    verdict: str | None
    verdict_reason: str
    evidence: Mapping[str, Any] | None
    begun_at: datetime | None
    finished_at: datetime | None
    units: int
    control_units: int
    holding_since: datetime | None = None
    extended_until: datetime | None = None
    excluded: tuple[tuple[int, str], ...] = ()  # (unit, why) a person left out of the evidence


def number(index: int) -> str:
    """``stage 2 (pilot)``-style numbering starts at 1, as people count."""
    return f"stage {index + 1}"


def progress(e_value: float, threshold: float) -> int:
    """How far an e-value has come towards its threshold, in whole percent (0 to 100)."""
    if e_value <= 1 or threshold <= 1:
        return 0
    return min(100, math.floor(100 * math.log(e_value) / math.log(threshold)))


def _ratio(evidence: Mapping[str, Any]) -> str:
    low, high = evidence["error_ratio_95"]
    ratio = evidence["error_ratio"]
    return f"{ratio:.2f} times the old version's rate (95% interval {low:.2f} to {high:.2f})"


def _percent(value: float) -> str:
    return f"{value:+.1%}"


def _latency(evidence: Mapping[str, Any]) -> str | None:
    if evidence.get("latency_change") is None:
        return None
    low, high = evidence["latency_change_95"]
    return (
        f"latency {_percent(evidence['latency_change'])} "
        f"(95% interval {_percent(low)} to {_percent(high)})"
    )


def _compared(evidence: Mapping[str, Any]) -> bool:
    return bool(evidence.get("errors_updated", 0) + evidence.get("errors_control", 0) > 0)


def _measured(evidence: Mapping[str, Any], rules: GateRules, *, final: bool) -> str:
    """What the gate measured (``final``: the stage is decided, nothing more comes)."""
    lead = "Measured" if final else "Measured so far"
    parts = []
    if _compared(evidence):
        parts.append(f"errors at {_ratio(evidence)}")
    latency = _latency(evidence)
    if latency:
        parts.append(latency)
    watched = humanize(timedelta(seconds=rules.interval.total_seconds() * evidence["intervals"]))
    served = f"{evidence['requests_updated']:,.0f} requests on the fix over {watched}"
    if not parts:
        return f"{lead}: {served}; no errors {'' if final else 'yet '}to compare."
    return f"{lead}: " + "; ".join(parts) + f", from {served}."


def _towards(evidence: Mapping[str, Any], rules: GateRules, *, lat: bool) -> str:
    pass_at, fail_at = 4 / rules.alpha, 6 / rules.alpha
    passing = [f"errors {progress(evidence['errors_pass_e'], pass_at)}%"]
    failing = [
        f"errors {progress(evidence['errors_fail_e'], fail_at)}%",
        f"crashes {progress(evidence['crashes_fail_e'], fail_at)}%",
    ]
    if lat:
        passing.append(f"latency {progress(evidence['latency_pass_e'], pass_at)}%")
        failing.append(f"latency {progress(evidence['latency_fail_e'], fail_at)}%")
    return (
        f"Evidence that the fix is no worse (errors below {rules.error_margin:g} times, latency "
        f"below +{rules.latency_margin:.0%}): " + ", ".join(passing) + " of the way to a pass. "
        "Evidence of a regression: " + ", ".join(failing) + " of the way to a halt."
    )


def _took(stage: StageView) -> str:
    if stage.begun_at is None or stage.finished_at is None:
        return ""
    return f" after {humanize(stage.finished_at - stage.begun_at)}"


NAMED_UNITS = 10  # a sentence names at most this many units


def _units(ids: list[int]) -> str:
    shown = ", ".join(str(unit) for unit in ids[:NAMED_UNITS])
    more = len(ids) - NAMED_UNITS
    return shown + (f" and {more} more" if more > 0 else "")


def _holding(stage: StageView, rules: GateRules, evidence: Mapping[str, Any]) -> list[str]:
    """Why a stage has no verdict, in plain words, and what happens if it stays so."""
    said = []
    quiet, noisy = evidence.get("quiet_units") or [], evidence.get("noisy_units") or []
    if quiet:
        said.append(f"No traffic in the last interval from unit {_units(quiet)}.")
    if noisy:
        said.append(
            f"Errors far above their own rate from unit {_units(noisy)}: what one unit adds is "
            "capped, so it slows the verdict; leave it out of the evidence if it is unrelated."
        )
    if stage.holding_since is not None and stage.status == StageStatus.BAKING:
        since = max(stage.holding_since, stage.extended_until or stage.holding_since)
        then = "pages the on-call again" if rules.on_max_hold == "page" else "halts the rollout"
        said.append(
            f"Undecided since {since:%Y-%m-%d %H:%M} UTC; {humanize(rules.max_hold)} after the "
            f"bake (or an extension) it {then}. A person may pass it by hand, extend it, or "
            "leave a unit out of the evidence."
        )
    return said


def sentences(stage: StageView, rules: GateRules) -> list[str]:
    """The stage's gate in a few sentences, in the order a reader asks: what is compared, what
    was measured, how far the evidence has come, and what it still needs (or what it decided)."""
    if stage.status == StageStatus.PENDING:
        return [f"Waits for the stages before it; then {stage.units} units get the fix."]
    evidence = stage.evidence
    said: list[str] = []
    if stage.status == StageStatus.PASSED:
        said.append(f"Passed{_took(stage)}: {stage.verdict_reason}.")
    elif stage.status == StageStatus.FAILED:
        said.append(f"Failed{_took(stage)}: {stage.verdict_reason}.")
    elif stage.control_units:
        said.append(
            f"Compares the {stage.units} units of this stage with the {stage.control_units} "
            "still on the old version, each against its own error rate and latency before the "
            "stage began."
        )
    else:
        said.append(
            "No unit is left on the old version to compare with: the stage is watched for "
            "errors and crashes only."
        )
    if evidence is None:
        if stage.verdict_reason and stage.status not in {StageStatus.PASSED, StageStatus.FAILED}:
            said.append(f"It holds: {stage.verdict_reason}.")
        return said
    final = stage.status in {StageStatus.PASSED, StageStatus.FAILED}
    said.append(_measured(evidence, rules, final=final))
    if stage.status in {StageStatus.DEPLOYING, StageStatus.BAKING}:
        said.append(_towards(evidence, rules, lat=evidence.get("latency_change") is not None))
        missing = evidence.get("missing") or []
        if stage.verdict == "hold":
            said.append(f"It holds: {stage.verdict_reason}.")
        elif missing:
            said.append("It still needs " + ", ".join(missing) + ".")
        said += _holding(stage, rules, evidence)
    said += [f"Left out of the evidence: unit {unit} ({why})." for unit, why in stage.excluded]
    return said
