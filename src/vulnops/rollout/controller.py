"""The rollout controller (shell): load the rollout as recorded, feed its gates, ask ``decide``
what to do, do it through the backend, record it — and again, until only waiting is left.

Every change of a unit is written before the backend is called (``deploying``) and after it
answered, each in its own transaction, and every action is an event on the case's timeline. A
controller killed at any point leaves either nothing or a unit marked ``deploying``; the next one
asks the backend what that unit runs (``decide`` returns Reconcile first) instead of deploying
it again. One tick of a rollout runs at a time (the job's lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from vulnops.db.database import Database
from vulnops.rollout import decide as d
from vulnops.rollout import observe, registry, transitions
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.interfaces import (
    Backend,
    Context,
    DeployError,
    HealthSource,
    HealthUnavailable,
    Target,
)
from vulnops.rollout.models import RolloutUnit
from vulnops.rollout.state import Loaded, load, view
from vulnops.rollout.state import targets as unit_targets
from vulnops.settings import Settings

log = logging.getLogger(__name__)
MAX_STEPS = 200  # decisions per tick; the next tick goes on
MIN_DELAY = 0.5


def deploy_key(rollout_id: int, unit_id: int, what: str) -> str:
    return f"rollout:{rollout_id}:unit:{unit_id}:{what}"


class Controller:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.context = Context(settings=settings, database=database, clock=clock)

    async def tick(self, rollout_id: int) -> float | None:
        """Run the rollout as far as it can go now; the seconds until it should be looked at
        again, or None when it needs no more looks (finished, paused, awaiting approval)."""
        for _ in range(MAX_STEPS):
            now = self.clock()
            async with self.database.session() as session:
                loaded = await load(session, rollout_id)
                if loaded is None or loaded.rollout.status not in {
                    d.RolloutStatus.RUNNING,
                    d.RolloutStatus.HALTED,
                    d.RolloutStatus.ROLLING_BACK,
                }:
                    return None
                backend = registry.backend(loaded.rollout.backend, self.context)
                health = registry.health_source(loaded.rollout.health_source, self.context)
                targets = await unit_targets(session, [u.unit_id for u in loaded.units])
                await self._look(loaded, health, targets, now)
                actions = d.decide(view(loaded), now)
                await session.commit()
            if not actions:
                return None
            todo = [a for a in actions if not isinstance(a, d.Wait)]
            if not todo:
                return self._delay(loaded, actions, now)
            for action in todo:
                if not await self._carry_out(action, rollout_id, backend, health, targets):
                    return self.settings.rollout_tick_seconds
        return MIN_DELAY

    async def _look(
        self, loaded: Loaded, health: HealthSource, targets: dict[int, Target], now: datetime
    ) -> None:
        if loaded.rollout.status != d.RolloutStatus.RUNNING:
            return
        for stage in loaded.stages:
            if observe.watched(stage):
                bake = loaded.policy.stage_rules(stage.kind).bake
                bake_over = stage.baking_since is not None and now >= stage.baking_since + bake
                await observe.look(
                    health,
                    targets,
                    stage,
                    loaded.units,
                    loaded.policy.gates,
                    bake_over=bake_over,
                    now=now,
                )

    def _delay(self, loaded: Loaded, actions: Sequence[d.Action], now: datetime) -> float:
        delay = self.settings.rollout_tick_seconds
        for action in actions:
            if isinstance(action, d.Wait) and action.until is not None:
                delay = min(delay, (action.until - now).total_seconds())
        interval = loaded.policy.gates.interval
        for stage in loaded.stages:
            if observe.watched(stage) and stage.observed_until is not None:
                due = stage.observed_until + interval
                delay = min(delay, (due - now).total_seconds())
        return max(delay, MIN_DELAY)

    async def _carry_out(
        self,
        action: d.Action,
        rollout_id: int,
        backend: Backend,
        health: HealthSource,
        targets: dict[int, Target],
    ) -> bool:
        """Carry out one action; False when the rollout cannot go on now."""
        if isinstance(action, d.Deploy | d.RollBack | d.Reconcile):
            await self._change_units(action, rollout_id, backend, targets)
        elif isinstance(action, d.BeginStage):
            return await self._begin_stage(action, rollout_id, health, targets)
        else:
            async with self.database.session() as session:
                loaded = await load(session, rollout_id)
                assert loaded is not None
                await transitions.apply(
                    session, loaded, action, now=self.clock(), settings=self.settings
                )
                await session.commit()
        return True

    async def _begin_stage(
        self,
        action: d.BeginStage,
        rollout_id: int,
        health: HealthSource,
        targets: dict[int, Target],
    ) -> bool:
        """Measure the baseline and begin deploying; without a baseline the stage waits."""
        async with self.database.session() as session:
            loaded = await load(session, rollout_id)
            assert loaded is not None
            stage, now = loaded.stage(action.stage), self.clock()
            try:
                gate = await observe.baseline(
                    health, targets, stage, loaded.units, loaded.policy.gates, now
                )
            except HealthUnavailable as error:
                stage.verdict = VerdictKind.HOLD.value
                stage.verdict_reason = f"no baseline: the health source is unavailable: {error}"
                stage.holding_since = stage.holding_since or now
                await session.commit()
                return False
            stage.gate, stage.observed_until = gate.to_json(), now
            await transitions.apply(session, loaded, action, now=now, settings=self.settings)
            await session.commit()
        return True

    async def _change_units(
        self,
        action: d.Deploy | d.RollBack | d.Reconcile,
        rollout_id: int,
        backend: Backend,
        targets: dict[int, Target],
    ) -> None:
        async with self.database.session() as session:
            loaded = await load(session, rollout_id)
            assert loaded is not None
            if isinstance(action, d.Reconcile):
                units = [u for u in loaded.units if u.unit_id in set(action.unit_ids)]
            else:
                status = (
                    d.UnitStatus.DEPLOYING
                    if isinstance(action, d.Deploy)
                    else (d.UnitStatus.ROLLING_BACK)
                )
                units = await transitions.mark(session, loaded, action.unit_ids, status)
            await session.commit()
            rollout = loaded.rollout
        limit = asyncio.Semaphore(loaded.policy.max_parallel_units)

        async def one(unit: RolloutUnit) -> tuple[int, str | None, str | None]:
            """(unit, error, the version it runs when reconciling)."""
            target = targets[unit.unit_id]
            async with limit:
                try:
                    if isinstance(action, d.Reconcile):
                        return unit.unit_id, None, await backend.current_version(target)
                    if isinstance(action, d.Deploy):
                        key = deploy_key(rollout.id, unit.unit_id, "deploy")
                        await backend.deploy(target, rollout.target_version, key=key)
                    else:
                        key = deploy_key(rollout.id, unit.unit_id, "rollback")
                        await backend.deploy(target, unit.from_version, key=key)
                except DeployError as error:
                    return unit.unit_id, str(error) or type(error).__name__, None
                except Exception as error:  # a backend bug must not stop the rollout silently
                    log.exception("backend %s failed on unit %s", rollout.backend, unit.unit_id)
                    return unit.unit_id, f"{type(error).__name__}: {error}", None
            return unit.unit_id, None, None

        results = await asyncio.gather(*(one(unit) for unit in units))
        async with self.database.session() as session:
            loaded = await load(session, rollout_id)
            assert loaded is not None
            await transitions.record_units(
                session, loaded, action, results, now=self.clock(), settings=self.settings
            )
            await session.commit()
