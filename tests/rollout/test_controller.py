"""The controller on a real PostgreSQL, with the simulated fleet, in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from helpers import Clock, FixMaker
from vulnops.db.database import Database
from vulnops.fleet.models import DeploymentUnit
from vulnops.mail.models import OutboundEmail
from vulnops.rollout import service
from vulnops.rollout.controller import Controller
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.settings import Settings
from vulnops.sim import service as sim
from vulnops.sim.model import Fault


async def _drive(controller: Controller, clock: Clock, rollout_id: int, limit: int = 2000) -> int:
    """Tick as the jobs would, advancing virtual time by each delay; the number of ticks."""
    for count in range(limit):
        delay = await controller.tick(rollout_id)
        if delay is None:
            return count
        clock.advance(delay)
    raise AssertionError(f"the rollout did not settle in {limit} ticks")


async def _start(db: Database, settings: Settings, fix_id: int, policy: str = "demo") -> int:
    async with db.session() as session:
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=fix_id,
            policy_name=policy,
            actor="starter@example.com",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
        return rollout.id


async def test_a_good_fix_reaches_every_unit(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    rollout_id = await _start(db, sim_settings, await make_fix("2026.12.1"))
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    await _drive(controller, clock, rollout_id)
    async with db.session() as session:
        rollout = await session.get(Rollout, rollout_id)
        assert rollout is not None and rollout.status == "completed", (
            rollout and rollout.status_reason
        )
        stages = list(await session.scalars(select(RolloutStage).order_by(RolloutStage.index)))
        assert [s.status for s in stages] == ["passed"] * len(stages)
        assert stages[0].kind == "canary" and stages[1].kind == "pilot"
        units = list(await session.scalars(select(RolloutUnit)))
        assert units and {u.status for u in units} == {"deployed"}
        versions = set(
            await session.scalars(
                select(DeploymentUnit.current_version).where(
                    DeploymentUnit.id.in_([u.unit_id for u in units])
                )
            )
        )
        assert versions == {"2026.12.1"}
        # Each unit was deployed once: one simulated deployment record per unit.
        per_unit = await session.execute(
            text("SELECT unit_id, count(*) FROM sim_deployments GROUP BY unit_id")
        )
        assert {count for _, count in per_unit.all()} == {1}
        kinds = list(
            await session.scalars(
                text("SELECT kind FROM audit_events WHERE subject = :s ORDER BY seq"),
                {"s": f"case:{rollout.case_id}"},
            )
        )
    assert kinds.count("rollout.stage_passed") == len(stages)
    assert "rollout.completed" in kinds
    async with db.session() as session:
        case = await session.scalar(
            text("SELECT state FROM cases WHERE id = :id"), {"id": rollout.case_id}
        )
    assert case == "mitigated"


async def test_a_bad_fix_is_halted_at_canary_and_rolled_back(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    fix_id = await make_fix("2026.12.2")
    async with db.session() as session:
        await sim.set_fault(
            session, service_key="storage", version="2026.12.2", fault=Fault(error_multiplier=5)
        )
        await session.commit()
    rollout_id = await _start(db, sim_settings, fix_id)
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    await _drive(controller, clock, rollout_id)
    async with db.session() as session:
        rollout = await session.get(Rollout, rollout_id)
        assert rollout is not None and rollout.status == "halted"
        assert "stage 1 (canary) failed" in rollout.status_reason
        stages = list(await session.scalars(select(RolloutStage).order_by(RolloutStage.index)))
        assert stages[0].status == "failed" and "errors" in stages[0].verdict_reason
        assert all(s.status == "pending" for s in stages[1:])
        units = list(await session.scalars(select(RolloutUnit)))
        canary = [u for u in units if u.stage == 0]
        assert {u.status for u in canary} == {"rolled_back"}
        assert {u.status for u in units if u.stage > 0} == {"pending"}
        running = dict(
            (
                await session.execute(
                    select(DeploymentUnit.id, DeploymentUnit.current_version).where(
                        DeploymentUnit.id.in_([u.unit_id for u in canary])
                    )
                )
            ).all()
        )
        assert running == {u.unit_id: u.from_version for u in canary}
        case = await session.scalar(
            text("SELECT state FROM cases WHERE id = :id"), {"id": rollout.case_id}
        )
    assert case == "remediating", "a fix that failed its gate sends the case back to work"
    async with db.session() as session:
        pages = (
            await session.execute(
                text("SELECT subject, source, case_id, urgency FROM pages WHERE dedup_key = :k"),
                {"k": f"rollout:{rollout_id}:failed"},
            )
        ).all()
    # The failed stage pages the on-call (one open page per rollout and kind of trouble).
    assert len(pages) == 1
    subject, source, case_id, urgency = pages[0]
    assert (source, case_id, urgency) == ("rollout", rollout.case_id, "high")
    assert "storage needs a person: stage 1 (canary) failed its gate: errors" in subject


async def test_a_halted_rollout_alerts_its_starter_by_email(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    mailing = sim_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": 2, "triage_email": "triage@example.com"}
    )
    fix_id = await make_fix("2026.12.2")
    async with db.session() as session:
        await sim.set_fault(
            session, service_key="storage", version="2026.12.2", fault=Fault(error_multiplier=5)
        )
        await session.commit()
    rollout_id = await _start(db, mailing, fix_id)
    await _drive(Controller(database=db, settings=mailing, clock=clock), clock, rollout_id)
    async with db.session() as session:
        alerts = list(
            await session.scalars(
                select(OutboundEmail).where(OutboundEmail.about == f"rollout:{rollout_id}")
            )
        )
    assert {a.to_address for a in alerts} >= {"triage@example.com"}
    [first, *_] = alerts
    assert first.subject == f"Rollout #{rollout_id} (2026.12.2) needs you: halted"
    assert "stage 1 (canary) failed its gate: errors: the updated units fail" in first.body
    assert f"/rollouts/{rollout_id}" in first.body
