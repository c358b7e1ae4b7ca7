"""What a person does with a stage the gate cannot decide, so that no good fix waits forever:
**pass** it by hand (a second person where the policy asks), **extend** its time (the hold
clock starts again), or **exclude a unit** from the evidence (too noisy, or too little traffic
to judge; still deployed, its crashes still count, the stage's evidence gathered again without
it). Each is an event with its reason, and wakes the controller."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.roles import Permission
from vulnops.durations import format_duration
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound
from vulnops.rollout import gates, tasks, transitions
from vulnops.rollout.decide import RolloutStatus, StageStatus, UnitStatus
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.policy import Policy
from vulnops.rollout.service import get
from vulnops.settings import Settings

MAX_EXTENSION = timedelta(hours=24)
OPERABLE = (RolloutStatus.RUNNING, RolloutStatus.PAUSED, RolloutStatus.HALTED)


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise Invalid(f"reason: say why the stage is {what}")
    return reason.strip()


async def _stage(
    session: AsyncSession, rollout_id: int, index: int
) -> tuple[Rollout, RolloutStage]:
    """The rollout (locked) and its baking stage ``index`` (0-based)."""
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    if rollout.status not in {s.value for s in OPERABLE}:
        raise Conflict(f"a {rollout.status} rollout's stages cannot be changed")
    stage = await session.get(RolloutStage, (rollout.id, index))
    if stage is None:
        raise NotFound(f"rollout {rollout.id} has no stage {index + 1}")
    if stage.status != StageStatus.BAKING:
        raise Conflict(
            f"stage {index + 1} is {stage.status}; only a stage whose units are all deployed "
            "and that is baking can be changed"
        )
    return rollout, stage


def pass_permission(policy: Policy) -> Permission:
    return (
        Permission.ROLLOUTS_APPROVE
        if policy.hand_override == "second_person"
        else Permission.ROLLOUTS_MANAGE
    )


async def pass_stage(
    session: AsyncSession,
    *,
    rollout_id: int,
    stage: int,
    actor: str,
    can: frozenset[Permission],
    reason: str,
    now: datetime,
    settings: Settings,
) -> Rollout:
    """Pass a baking stage whose gate has not failed. Under ``hand_override: second_person`` it
    takes rollouts:approve and someone other than the rollout's starter."""
    why = _reason(reason, "passed by hand")
    rollout, row = await _stage(session, rollout_id, stage)
    policy = Policy.model_validate(rollout.policy)
    needed = pass_permission(policy)
    if needed not in can:
        raise Forbidden(f"passing a stage by hand needs the {needed.value} permission")
    if policy.hand_override == "second_person" and actor == rollout.started_by:
        raise Forbidden("a second person passes the stage: not the one who started the rollout")
    if row.verdict == gates.VerdictKind.FAIL:
        raise Conflict(f"stage {stage + 1}'s gate failed: {row.verdict_reason}")
    row.status, row.finished_at = StageStatus.PASSED.value, now
    row.verdict_reason = f"passed by hand by {actor}: {why}"
    rollout.updated_at = now
    await transitions.record(
        session,
        rollout,
        "stage_passed_by_hand",
        {"stage": row.index, "kind": row.kind, "reason": why, "gate_said": row.verdict},
        actor=actor,
    )
    await tasks.wake(session, rollout.id)
    return rollout


async def extend_stage(
    session: AsyncSession,
    *,
    rollout_id: int,
    stage: int,
    by: timedelta,
    actor: str,
    reason: str,
    now: datetime,
) -> Rollout:
    """Give a baking stage more time: its hold clock (the alert, ``max_hold``) starts again."""
    why = _reason(reason, "extended")
    if not timedelta(minutes=1) <= by <= MAX_EXTENSION:
        raise Invalid(f"by: from 1 minute to {format_duration(MAX_EXTENSION)}")
    rollout, row = await _stage(session, rollout_id, stage)
    row.extended_until = max(now, row.extended_until or now) + by
    row.alerted, row.max_hold_reached = False, False
    rollout.updated_at = now
    await transitions.record(
        session,
        rollout,
        "stage_extended",
        {
            "stage": row.index,
            "by": format_duration(by),
            "until": row.extended_until.isoformat(),
            "reason": why,
        },
        actor=actor,
    )
    await tasks.wake(session, rollout.id)
    return rollout


async def exclude_unit(
    session: AsyncSession,
    *,
    rollout_id: int,
    unit_id: int,
    actor: str,
    reason: str,
    now: datetime,
) -> Rollout:
    """Leave a unit out of the gates' evidence; the baking stages gather theirs again."""
    why = _reason(reason, "left out of the evidence")
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    if rollout.status not in {s.value for s in OPERABLE}:
        raise Conflict(f"a {rollout.status} rollout's units cannot be excluded")
    unit = await session.get(RolloutUnit, (rollout.id, unit_id))
    if unit is None:
        raise NotFound(f"unit {unit_id} is not in rollout {rollout.id}")
    if unit.excluded_at is not None:
        raise Conflict(f"unit {unit_id} is excluded already ({unit.excluded_reason})")
    if unit.status not in (UnitStatus.DEPLOYED, UnitStatus.PENDING):
        raise Conflict(f"unit {unit_id} is {unit.status}")
    unit.excluded_at, unit.excluded_reason = now, why
    policy = Policy.model_validate(rollout.policy)
    baking = await session.scalars(
        select(RolloutStage).where(
            RolloutStage.rollout_id == rollout.id, RolloutStage.status == StageStatus.BAKING
        )
    )
    restarted = []
    for stage in baking:
        if stage.gate is not None:
            state = gates.GateState.from_json(stage.gate)
            note = f"evidence gathered again without unit {unit_id} ({why})"
            stage.gate = gates.restarted(state, policy.gates, note).to_json()
            stage.holding_since, stage.alerted, stage.max_hold_reached = None, False, False
            restarted.append(stage.index)
    rollout.updated_at = now
    await transitions.record(
        session,
        rollout,
        "unit_excluded",
        {"unit": unit_id, "stage": unit.stage, "reason": why, "restarted": restarted},
        actor=actor,
    )
    await tasks.wake(session, rollout.id)
    return rollout
