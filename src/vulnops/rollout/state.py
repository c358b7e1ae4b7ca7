"""A rollout's rows as the controller loads them, and the view ``decide`` reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.fleet import deployment
from vulnops.rollout import decide as d
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.interfaces import Target
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.plan import StageKind
from vulnops.rollout.policy import Policy


@dataclass
class Loaded:
    rollout: Rollout
    stages: list[RolloutStage]
    units: list[RolloutUnit]
    policy: Policy

    def stage(self, index: int) -> RolloutStage:
        return self.stages[index]


async def load(session: AsyncSession, rollout_id: int, *, lock: bool = True) -> Loaded | None:
    query = select(Rollout).where(Rollout.id == rollout_id)
    rollout = await session.scalar(query.with_for_update() if lock else query)
    if rollout is None:
        return None
    stages = list(
        await session.scalars(
            select(RolloutStage)
            .where(RolloutStage.rollout_id == rollout_id)
            .order_by(RolloutStage.index)
        )
    )
    units = list(
        await session.scalars(
            select(RolloutUnit)
            .where(RolloutUnit.rollout_id == rollout_id)
            .order_by(RolloutUnit.stage, RolloutUnit.unit_id)
        )
    )
    return Loaded(rollout, stages, units, Policy.model_validate(rollout.policy))


def view(loaded: Loaded) -> d.RolloutView:
    return d.RolloutView(
        status=d.RolloutStatus(loaded.rollout.status),
        policy=loaded.policy,
        stages=[
            d.StageView(
                index=s.index,
                kind=StageKind(s.kind),
                status=d.StageStatus(s.status),
                baking_since=s.baking_since,
                verdict=VerdictKind(s.verdict) if s.verdict else None,
                verdict_reason=s.verdict_reason,
                holding_since=s.holding_since,
                alerted=s.alerted,
                extended_until=s.extended_until,
                max_hold_reached=s.max_hold_reached,
            )
            for s in loaded.stages
        ],
        units=[
            d.UnitView(
                id=u.unit_id,
                stage=u.stage,
                status=d.UnitStatus(u.status),
                attempts=u.attempts,
                retry_at=u.retry_at,
            )
            for u in loaded.units
        ],
    )


async def targets(session: AsyncSession, unit_ids: Iterable[int]) -> dict[int, Target]:
    found = await deployment.placements(session, unit_ids=unit_ids)
    return {
        unit_id: Target(
            unit_id=unit_id,
            service=p.service,
            region=p.region,
            scale_unit=p.scale_unit,
            tags=p.tags,
        )
        for unit_id, p in found.items()
    }
