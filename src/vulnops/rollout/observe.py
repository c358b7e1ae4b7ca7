"""Feeding the gates: the health of a stage's updated units and of the units not yet updated,
one interval at a time, from the rollout's health source (the controller's shell)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from vulnops.rollout import chart, gates
from vulnops.rollout.decide import StageStatus, UnitStatus
from vulnops.rollout.interfaces import HealthSource, HealthUnavailable, Target
from vulnops.rollout.models import RolloutStage, RolloutUnit
from vulnops.rollout.policy import GateRules
from vulnops.rollout.samples import Window

CATCH_UP = 30  # intervals one look may process when the controller was away
BASELINE_WINDOWS = 30  # the baseline is measured in this many windows at most


def groups(
    stage: RolloutStage, units: Sequence[RolloutUnit], window_start: datetime
) -> tuple[list[int], list[int], list[int]]:
    """The units that ran the new version for the whole window — of this stage and of those
    before it, so that a fault that shows only some time after deployment (crashes after half an
    hour) is still seen once an earlier stage has passed — and the units that ran the old one
    (of this stage and the ones after it, never touched yet); then the updated units a person
    excluded from the evidence, watched for crashes only (an excluded old one is left out)."""
    ran_new = [
        u
        for u in units
        if u.stage <= stage.index
        and u.status == UnitStatus.DEPLOYED
        and u.deployed_at is not None
        and u.deployed_at <= window_start
    ]
    updated = [u.unit_id for u in ran_new if u.excluded_at is None]
    watched = [u.unit_id for u in ran_new if u.excluded_at is not None]
    control = [
        u.unit_id
        for u in units
        if u.stage >= stage.index and u.status == UnitStatus.PENDING and u.excluded_at is None
    ]
    return updated, control, watched


async def window(
    health: HealthSource,
    targets: Mapping[int, Target],
    updated: Sequence[int],
    control: Sequence[int],
    start: datetime,
    end: datetime,
    watched: Sequence[int] = (),
) -> Window:
    every = [*updated, *control, *watched]
    observed = await health.observe([targets[u] for u in every], start, end)
    return Window(
        updated={u: observed[u] for u in updated if u in observed},
        control={u: observed[u] for u in control if u in observed},
        watched={u: observed[u] for u in watched if u in observed},
    )


async def baseline(
    health: HealthSource,
    targets: Mapping[int, Target],
    stage: RolloutStage,
    units: Sequence[RolloutUnit],
    rules: GateRules,
    now: datetime,
) -> gates.GateState:
    """The gate's start, from the windows before the stage deploys (raises HealthUnavailable)."""
    members = [
        u.unit_id
        for u in units
        if u.excluded_at is None
        and (u.stage == stage.index or (u.stage < stage.index and u.status == UnitStatus.DEPLOYED))
    ]
    control = [
        u.unit_id
        for u in units
        if u.stage > stage.index and u.status == UnitStatus.PENDING and u.excluded_at is None
    ]
    pieces = max(1, min(BASELINE_WINDOWS, round(rules.baseline / rules.interval)))
    step = rules.baseline / pieces
    windows = [
        await window(
            health,
            targets,
            members,
            control,
            now - rules.baseline + step * i,
            now - rules.baseline + step * (i + 1),
        )
        for i in range(pieces)
    ]
    return gates.start(windows, rules)


async def look(
    health: HealthSource,
    targets: Mapping[int, Target],
    stage: RolloutStage,
    units: Sequence[RolloutUnit],
    rules: GateRules,
    *,
    bake_over: bool,
    now: datetime,
) -> None:
    """Bring ``stage``'s gate up to ``now`` (whole intervals only) and set its verdict."""
    if stage.gate is None or stage.observed_until is None:
        return
    state = gates.GateState.from_json(stage.gate)
    before = state.intervals
    unavailable = None
    start = stage.observed_until
    quiet: list[int] = []
    noisy: list[int] = []
    for _ in range(CATCH_UP):
        end = start + rules.interval
        if end > now:
            break
        updated, control, watched = groups(stage, units, start)
        try:
            observed = await window(health, targets, updated, control, start, end, watched)
        except HealthUnavailable as error:
            unavailable = str(error)
            break
        state = gates.update(state, observed, rules)
        quiet, noisy = gates.unusual_units(observed, state.error_rates)
        start = end
    looked = state.intervals > before
    stage.gate, stage.observed_until = state.to_json(), start
    has_control = any(u.stage >= stage.index and u.status == UnitStatus.PENDING for u in units)
    verdict = gates.verdict(state, rules, baked=bake_over, has_control=has_control)
    kind, reason = verdict.kind, verdict.reason
    if unavailable is not None and kind != gates.VerdictKind.FAIL:
        kind, reason = gates.VerdictKind.HOLD, f"the health source is unavailable: {unavailable}"
    if looked:
        unusual = {"quiet_units": quiet, "noisy_units": noisy}
    else:  # no new interval: what the last look found stands
        unusual = {k: (stage.evidence or {}).get(k, []) for k in ("quiet_units", "noisy_units")}
    stage.verdict, stage.verdict_reason = kind.value, reason
    stage.evidence = {**verdict.stats, **unusual}
    if looked and stage.begun_at is not None:
        seconds = (start - stage.begun_at).total_seconds()
        stage.history = chart.appended(stage.history or [], chart.point(seconds, verdict.stats))
    undecided = kind in {gates.VerdictKind.HOLD, gates.VerdictKind.PENDING}
    if not undecided:
        stage.holding_since = None
    elif stage.holding_since is None:
        stage.holding_since = now


def watched(stage: RolloutStage) -> bool:
    return stage.status in {StageStatus.DEPLOYING, StageStatus.BAKING}
