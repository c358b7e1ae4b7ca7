"""The demo's story, with the demo's settings: the storage fix reaches the whole demo fleet, the
faulty identity release is halted at canary and rolled back by itself (the generated year of
history behind the metrics dashboard is left aside)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from helpers import Clock
from vulnops import demo
from vulnops.db.database import Database
from vulnops.review import history
from vulnops.rollout.controller import Controller
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.settings import Settings


async def test_the_demo_rollouts_end_as_the_demo_says(db: Database, settings: Settings) -> None:
    await demo.seed(db)
    async with db.session() as session:
        rollouts = {
            r.target_version: r
            for r in await session.scalars(
                select(Rollout).where(Rollout.started_by != history.ACTOR)
            )
        }
    assert set(rollouts) == {"2026.12.1", "2026.12.2"}
    assert {r.status for r in rollouts.values()} == {"running"}
    clock = Clock(datetime.now(UTC))
    controller = Controller(database=db, settings=settings, clock=clock)
    elapsed = 0.0
    for rollout in rollouts.values():
        delay = await controller.tick(rollout.id)
        while delay is not None:
            clock.advance(delay)
            elapsed += delay
            delay = await controller.tick(rollout.id)
            assert elapsed < 3600, "a demo rollout should settle in minutes"
    async with db.session() as session:
        good = await session.get(Rollout, rollouts["2026.12.1"].id)
        bad = await session.get(Rollout, rollouts["2026.12.2"].id)
        assert good is not None and bad is not None
        assert good.status == "completed"
        assert bad.status == "halted" and "stage 1 (canary) failed" in bad.status_reason
        canary = await session.scalar(
            select(RolloutStage).where(RolloutStage.rollout_id == bad.id, RolloutStage.index == 0)
        )
        assert canary is not None and canary.kind == "canary" and canary.status == "failed"
        statuses = set(
            await session.scalars(
                select(RolloutUnit.status).where(
                    RolloutUnit.rollout_id == bad.id, RolloutUnit.stage == 0
                )
            )
        )
        assert statuses == {"rolled_back"}
