"""One rollout as its page, its API and ``rollout status`` show it: each stage with its gate's
statistics in numbers and in words, its history for the charts, every unit's state (compactly:
the page draws thousands of them), and the operations that can succeed now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.fleet import service as fleet
from vulnops.rollout import explain
from vulnops.rollout.decide import RolloutStatus, StageStatus, UnitStatus, possible_operations
from vulnops.rollout.models import RolloutStage, RolloutUnit
from vulnops.rollout.policy import GateRules, Policy
from vulnops.rollout.schemas import RolloutOut, StageOut
from vulnops.rollout.service import active_for, get, summary


async def snapshot(session: AsyncSession, *, rollout_id: int) -> RolloutOut:
    """Everything the rollout page shows: the rollout, each stage with its gate's statistics,
    and every unit's state (compactly: the page draws thousands of them)."""
    found, _ = await shown(session, rollout_id=rollout_id)
    return found


async def shown(session: AsyncSession, *, rollout_id: int) -> tuple[RolloutOut, GateRules]:
    """The snapshot and the gate rules its rollout runs under (for the charts' margins)."""
    rollout = await get(session, rollout_id=rollout_id)
    stages = list(
        await session.scalars(
            select(RolloutStage)
            .where(RolloutStage.rollout_id == rollout.id)
            .order_by(RolloutStage.index)
        )
    )
    units = list(
        await session.scalars(
            select(RolloutUnit)
            .where(RolloutUnit.rollout_id == rollout.id)
            .order_by(RolloutUnit.stage, RolloutUnit.unit_id)
        )
    )
    labels = await fleet.unit_labels(session, unit_ids={u.unit_id for u in units})
    keys = await fleet.service_keys(session, ids=[rollout.service_id])
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.status] = counts.get(unit.status, 0) + 1
    rules = Policy.model_validate(rollout.policy).gates
    busy = rollout.status == RolloutStatus.COMPLETED and await active_for(
        session, rollout.service_id
    )
    found = RolloutOut.model_validate(
        {
            **summary(rollout),
            "service": keys.get(rollout.service_id, ""),
            "units": counts,
            "operations": possible_operations(
                rollout.status,
                gate_failed=any(s.status == StageStatus.FAILED for s in stages),
                service_busy=bool(busy),
            ),
            "stages": [_stage(s, units, labels, rules) for s in stages],
        }
    )
    return found, rules


def _stage(
    stage: RolloutStage,
    units: Sequence[RolloutUnit],
    labels: Mapping[int, str],
    rules: GateRules,
) -> StageOut:
    members = [u for u in units if u.stage == stage.index]
    view = explain.StageView(
        index=stage.index,
        kind=stage.kind,
        status=stage.status,
        verdict=stage.verdict,
        verdict_reason=stage.verdict_reason,
        evidence=stage.evidence,
        begun_at=stage.begun_at,
        finished_at=stage.finished_at,
        units=len(members),
        control_units=sum(
            1 for u in units if u.stage > stage.index and u.status == UnitStatus.PENDING
        ),
        holding_since=stage.holding_since,
        extended_until=stage.extended_until,
        excluded=tuple(
            (u.unit_id, u.excluded_reason) for u in members if u.excluded_at is not None
        ),
    )
    return StageOut(
        index=stage.index,
        kind=stage.kind,
        regions=stage.regions,
        traffic=stage.traffic,
        status=stage.status,
        begun_at=stage.begun_at,
        baking_since=stage.baking_since,
        finished_at=stage.finished_at,
        verdict=stage.verdict,
        verdict_reason=stage.verdict_reason,
        explanation=explain.sentences(view, rules),
        alerted=stage.alerted,
        holding_since=stage.holding_since,
        extended_until=stage.extended_until,
        max_hold_reached=stage.max_hold_reached,
        evidence=stage.evidence,
        history=stage.history or [],
        units=[
            [
                u.unit_id,
                labels.get(u.unit_id, ""),
                u.status,
                u.last_error[:200],
                u.excluded_reason if u.excluded_at is not None else None,
            ]
            for u in members
        ],
    )
