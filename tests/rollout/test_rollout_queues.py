"""The rollout sections of the work queue: an engineer's fixes, the live rollouts and the
stages that need a person, from a real halted rollout."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from helpers import Clock, FixMaker, MakeUser
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.rollout import service
from vulnops.rollout.controller import Controller
from vulnops.settings import Settings
from vulnops.sim import service as sim
from vulnops.sim.model import Fault
from vulnops.workqueue.sections import SectionKey
from vulnops.workqueue.service import work_queue


async def _queue(db: Database, settings: Settings, user: Any) -> dict[str, Any]:
    async with db.session() as session:
        queue = await work_queue(
            session,
            principal=users.principal_of(user, via="session"),
            settings=settings,
            now=datetime.now(UTC),
        )
    return {s.key: s for s in queue.sections}


async def test_a_halted_rollout_is_in_the_queues_of_who_ships_it(
    db: Database,
    fleet: object,
    make_fix: FixMaker,
    make_user: MakeUser,
    sim_settings: Settings,
    clock: Clock,
) -> None:
    engineer = await make_user(Role.ENGINEER)
    release = await make_user(Role.RELEASE_MANAGER)
    bad = await make_fix("2026.12.2", actor=engineer.email)
    await make_fix("2026.12.3", service="compute", evidence=False, actor=engineer.email)
    await make_fix("2026.12.4", actor="someone-else@example.com")
    async with db.session() as session:
        await sim.set_fault(
            session, service_key="storage", version="2026.12.2", fault=Fault(error_multiplier=5)
        )
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=bad,
            policy_name="demo",
            actor=release.email,
            settings=sim_settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    while (delay := await controller.tick(rollout.id)) is not None:
        clock.advance(delay)

    engineer_queue = await _queue(db, sim_settings, engineer)
    fixes = engineer_queue[SectionKey.MY_FIXES]
    assert fixes.count == 2
    details = {item.title: item.detail for item in fixes.items}
    assert details["storage 2026.12.2"] == "ready to roll out"
    assert details["compute 2026.12.3"].startswith("not ready: no compatibility results")

    queue = await _queue(db, sim_settings, release)
    assert list(queue)[:2] == [SectionKey.STAGES, SectionKey.MY_APPROVALS]
    stages = queue[SectionKey.STAGES]
    assert stages.count == 1 and stages.alarm
    [stage] = stages.items
    assert stage.href == f"/rollouts/{rollout.id}" and stage.tone == "bad"
    assert stage.title.startswith("Stage 1 (canary")
    assert stage.detail.startswith("failed since")
    live = queue[SectionKey.LIVE_ROLLOUTS]
    assert live.count == 1
    assert live.items[0].detail.startswith("halted: stage 1 of ")
    assert live.items[0].tone == "bad"


async def test_a_gate_waiting_for_data_needs_nobody_until_it_has_held_too_long(
    db: Database,
    fleet: object,
    make_fix: FixMaker,
    make_user: MakeUser,
    sim_settings: Settings,
    clock: Clock,
) -> None:
    release = await make_user(Role.RELEASE_MANAGER)
    good = await make_fix("2026.12.5")
    async with db.session() as session:
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=good,
            policy_name="demo",
            actor=release.email,
            settings=sim_settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    await controller.tick(rollout.id)  # the canary deployed: its gate's first look
    async with db.session() as session:
        verdict = await session.scalar(
            text("SELECT verdict FROM rollout_stages WHERE rollout_id = :r AND index = 0"),
            {"r": rollout.id},
        )
    assert verdict in {"hold", "pending"}
    assert (await _queue(db, sim_settings, release))[SectionKey.STAGES].count == 0

    async with db.session() as session:  # what the controller records past hold_alert_after
        await session.execute(
            text("UPDATE rollout_stages SET alerted = true WHERE rollout_id = :r AND index = 0"),
            {"r": rollout.id},
        )
        await session.commit()
    stages = (await _queue(db, sim_settings, release))[SectionKey.STAGES]
    assert stages.count == 1 and stages.alarm
    assert stages.items[0].detail.startswith("has had no verdict for too long")
