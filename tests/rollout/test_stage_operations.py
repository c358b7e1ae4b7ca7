"""No rollout waits forever: a baking stage passed by hand (a second person under the policy),
extended, a unit left out of the evidence; a stage held past ``max_hold`` pages again or halts
— on a real PostgreSQL with the simulated fleet in virtual time, over the service, the API and
the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from helpers import Clock, FixMaker, MakeUser, acli, api_token, bearer, csrf, sign_in
from vulnops.auth.roles import Permission, Role
from vulnops.db.database import Database
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound
from vulnops.rollout import decide as d
from vulnops.rollout import service, stage_operations, transitions
from vulnops.rollout.controller import Controller
from vulnops.rollout.gates import GateState
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.state import load
from vulnops.settings import Settings

MANAGER = frozenset({Permission.ROLLOUTS_READ, Permission.ROLLOUTS_MANAGE})
APPROVER = MANAGER | {Permission.ROLLOUTS_APPROVE}


async def _baking(
    db: Database, settings: Settings, clock: Clock, make_fix: FixMaker, stage: int = 0
) -> int:
    """A rollout of a good fix, driven until its stage ``stage`` bakes."""
    fix_id = await make_fix("2026.12.1")
    async with db.session() as session:
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=fix_id,
            policy_name="demo",
            actor="starter@example.com",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    controller = Controller(database=db, settings=settings, clock=clock)
    for _ in range(500):
        async with db.session() as session:
            found = await session.get(RolloutStage, (rollout.id, stage))
            if found is not None and found.status == "baking":
                return rollout.id
        delay = await controller.tick(rollout.id)
        assert delay is not None
        clock.advance(min(delay, 5))
    raise AssertionError("the stage never baked")


async def _stage(db: Database, rollout_id: int, index: int) -> RolloutStage:
    async with db.session() as session:
        found = await session.get(RolloutStage, (rollout_id, index))
    assert found is not None
    return found


async def _events(db: Database, kind: str) -> list[dict[str, object]]:
    async with db.session() as session:
        rows = await session.scalars(
            text("SELECT data FROM audit_events WHERE kind = :k ORDER BY seq"), {"k": kind}
        )
    return list(rows)


async def test_a_stage_is_passed_by_hand_by_a_second_person_only(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)

    async def passed(actor: str, can: frozenset[Permission], reason: str = "noisy unit") -> None:
        async with db.session() as session:
            await stage_operations.pass_stage(
                session,
                rollout_id=rollout_id,
                stage=0,
                actor=actor,
                can=can,
                reason=reason,
                now=clock.now,
                settings=sim_settings,
            )
            await session.commit()

    with pytest.raises(Forbidden, match="needs the rollouts:approve permission"):
        await passed("rm@example.com", MANAGER)
    with pytest.raises(Forbidden, match="not the one who started the rollout"):
        await passed("starter@example.com", APPROVER)
    with pytest.raises(Invalid, match="reason"):
        await passed("lead@example.com", APPROVER, reason="  ")
    assert (await _stage(db, rollout_id, 0)).status == "baking"
    await passed("lead@example.com", APPROVER)
    stage = await _stage(db, rollout_id, 0)
    assert stage.status == "passed"
    assert stage.verdict_reason == "passed by hand by lead@example.com: noisy unit"
    [event] = await _events(db, "rollout.stage_passed_by_hand")
    assert event["reason"] == "noisy unit" and event["stage"] == 0
    with pytest.raises(Conflict, match="only a stage whose units are all deployed"):
        await passed("lead@example.com", APPROVER)
    # The controller carries on with the next stage.
    await Controller(database=db, settings=sim_settings, clock=clock).tick(rollout_id)
    assert (await _stage(db, rollout_id, 1)).status in {"deploying", "baking"}


async def test_an_extension_restarts_the_hold_clock_and_is_bounded(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE rollout_stages SET alerted = true, max_hold_reached = true "
                "WHERE rollout_id = :r AND index = 0"
            ),
            {"r": rollout_id},
        )
        await session.commit()

    async def extend(by: timedelta, reason: str = "a quiet region: night there") -> None:
        async with db.session() as session:
            await stage_operations.extend_stage(
                session,
                rollout_id=rollout_id,
                stage=0,
                by=by,
                actor="rm@example.com",
                reason=reason,
                now=clock.now,
            )
            await session.commit()

    for by in (timedelta(seconds=30), timedelta(hours=25)):
        with pytest.raises(Invalid, match="from 1 minute to 1d"):
            await extend(by)
    await extend(timedelta(hours=2))
    stage = await _stage(db, rollout_id, 0)
    assert stage.extended_until == clock.now + timedelta(hours=2)
    assert (stage.alerted, stage.max_hold_reached) == (False, False)
    await extend(timedelta(hours=1))  # a second extension adds to the first
    assert (await _stage(db, rollout_id, 0)).extended_until == clock.now + timedelta(hours=3)
    async with db.session() as session:
        with pytest.raises(NotFound, match="no stage 9"):
            await stage_operations.extend_stage(
                session,
                rollout_id=rollout_id,
                stage=8,
                by=timedelta(hours=1),
                actor="rm@example.com",
                reason="x",
                now=clock.now,
            )


async def test_a_unit_left_out_of_the_evidence_restarts_the_gate_without_it(
    db: Database, fleet: object, make_fix: FixMaker, sim_settings: Settings, clock: Clock
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)
    async with db.session() as session:
        unit = await session.scalar(
            select(RolloutUnit).where(RolloutUnit.rollout_id == rollout_id, RolloutUnit.stage == 0)
        )
        assert unit is not None
        unit_id = unit.unit_id
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    for _ in range(3):  # a few intervals of evidence (the demo policy's are 5 s)
        clock.advance(6)
        await controller.tick(rollout_id)
    assert (await _stage(db, rollout_id, 0)).status == "baking"
    before = GateState.from_json((await _stage(db, rollout_id, 0)).gate or {})
    assert before.intervals > 0

    async def exclude(unit: int) -> None:
        async with db.session() as session:
            await stage_operations.exclude_unit(
                session,
                rollout_id=rollout_id,
                unit_id=unit,
                actor="rm@example.com",
                reason="its host is being repaired",
                now=clock.now,
            )
            await session.commit()

    await exclude(unit_id)
    gate = GateState.from_json((await _stage(db, rollout_id, 0)).gate or {})
    assert (gate.intervals, gate.requests_updated) == (0, 0.0)
    assert gate.error_rates == before.error_rates  # the baseline stays
    assert f"without unit {unit_id}" in gate.notes[-1]
    with pytest.raises(Conflict, match="excluded already"):
        await exclude(unit_id)
    with pytest.raises(NotFound, match="not in rollout"):
        await exclude(987654)
    # Looked at again, the gate counts the other units only: the unit is watched for crashes.
    clock.advance(30)
    await controller.tick(rollout_id)
    async with db.session() as session:
        rows = await load(session, rollout_id, lock=False)
    assert rows is not None
    [row] = [u for u in rows.units if u.unit_id == unit_id]
    assert row.status == "deployed" and row.excluded_reason == "its host is being repaired"


@pytest.mark.parametrize("then", ["page", "halt"])
async def test_a_stage_held_past_max_hold_pages_again_or_halts(
    db: Database,
    fleet: object,
    make_fix: FixMaker,
    sim_settings: Settings,
    clock: Clock,
    then: str,
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)
    async with db.session() as session:
        rollout = await session.get(Rollout, rollout_id)
        assert rollout is not None
        rollout.policy = {
            **rollout.policy,
            "gates": {**rollout.policy["gates"], "on_max_hold": then},
        }
        await session.commit()
        rows = await load(session, rollout_id)
        assert rows is not None
        await transitions.apply(
            session,
            rows,
            d.HoldExpired(0, "the gate has had no verdict for long: waiting for evidence"),
            now=clock.now,
            settings=sim_settings,
        )
        await session.commit()
        status = await session.scalar(select(Rollout.status).where(Rollout.id == rollout_id))
        pages = list(
            await session.scalars(
                text("SELECT dedup_key FROM pages WHERE source = 'rollout' ORDER BY id")
            )
        )
    assert (await _stage(db, rollout_id, 0)).max_hold_reached
    assert status == ("halted" if then == "halt" else "running")
    assert pages == [f"rollout:{rollout_id}:hold_expired:stage:0"]
    [event] = await _events(db, "rollout.hold_expired")
    assert event["then"] == then and event["max_hold"] == "4h"


async def test_the_stage_operations_over_the_api_and_the_command_line(
    client: httpx.AsyncClient,
    db: Database,
    fleet: object,
    make_fix: FixMaker,
    sim_settings: Settings,
    clock: Clock,
    make_user: MakeUser,
    conninfo: str,
    tmp_path: Path,
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    manager = bearer(await api_token(db, await make_user(Role.RELEASE_MANAGER)))
    base = f"/api/rollouts/{rollout_id}"
    denied = await client.post(
        f"{base}/stages/1/extend", json={"reason": "x", "minutes": 5}, headers=engineer
    )
    assert denied.status_code == 403
    bad = await client.post(
        f"{base}/stages/1/extend", json={"reason": "x", "minutes": 0}, headers=manager
    )
    assert bad.status_code == 422
    extended = await client.post(
        f"{base}/stages/1/extend",
        json={"reason": "night in the region", "minutes": 90},
        headers=manager,
    )
    assert extended.status_code == 200, extended.text
    shown = await client.get(base, headers=manager)
    stage = shown.json()["stages"][0]
    assert stage["extended_until"] is not None and stage["max_hold_reached"] is False
    missing = await client.post(f"{base}/stages/9/pass", json={"reason": "x"}, headers=manager)
    assert missing.status_code == 404
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    async with db.session() as session:
        unit_id = await session.scalar(
            select(RolloutUnit.unit_id).where(
                RolloutUnit.rollout_id == rollout_id, RolloutUnit.stage == 0
            )
        )
    excluded = await acli(
        "rollout", "exclude-unit", str(rollout_id), str(unit_id), "--reason", "noisy", env=env
    )
    assert excluded.exit_code == 0, excluded.output
    shown = await client.get(base, headers=manager)
    units = {u[0]: u for u in shown.json()["stages"][0]["units"]}
    assert units[unit_id][4] == "noisy"
    assert any("Left out of the evidence" in s for s in shown.json()["stages"][0]["explanation"])
    # The operator at the console started nothing here: they pass it (a second person).
    passed = await acli("rollout", "pass-stage", str(rollout_id), "1", "--reason", "held", env=env)
    assert passed.exit_code == 0, passed.output
    assert (await _stage(db, rollout_id, 0)).status == "passed"


async def test_the_rollout_page_offers_the_stage_operations(
    client: httpx.AsyncClient,
    db: Database,
    fleet: object,
    make_fix: FixMaker,
    sim_settings: Settings,
    clock: Clock,
    make_user: MakeUser,
) -> None:
    rollout_id = await _baking(db, sim_settings, clock, make_fix)
    manager = await make_user(Role.RELEASE_MANAGER)
    await sign_in(client, manager.email)
    page = await client.get(f"/rollouts/{rollout_id}")
    assert page.status_code == 200
    assert 'data-testid="stage-operations"' in page.text
    assert "Exclude from the evidence" in page.text and "Pass by hand" in page.text
    token = await csrf(client, f"/rollouts/{rollout_id}")
    async with db.session() as session:
        unit_id = await session.scalar(
            select(RolloutUnit.unit_id).where(
                RolloutUnit.rollout_id == rollout_id, RolloutUnit.stage == 0
            )
        )
    excluded = await client.post(
        f"/rollouts/{rollout_id}/units/exclude",
        data={"unit": str(unit_id), "reason": "noisy host", "csrftoken": token},
    )
    assert excluded.status_code == 303
    extended = await client.post(
        f"/rollouts/{rollout_id}/stages/1/extend",
        data={"minutes": "30", "reason": "night there", "csrftoken": token},
    )
    assert extended.status_code == 303
    shown = await client.get(f"/rollouts/{rollout_id}")
    assert "Left out of the evidence: unit" in shown.text and "noisy host" in shown.text
    assert "unit-excluded" in shown.text
    # The starter's policy asks for a second person: a release manager may (approve).
    passed = await client.post(
        f"/rollouts/{rollout_id}/stages/1/pass",
        data={"reason": "held by one host", "csrftoken": token},
        headers={"referer": f"http://testserver/rollouts/{rollout_id}"},
    )
    assert passed.status_code == 303
    assert (await _stage(db, rollout_id, 0)).status == "passed"
    engineer = await make_user(Role.ENGINEER)
    client.cookies.clear()
    await sign_in(client, engineer.email)
    assert (
        'data-testid="stage-operations"' not in (await client.get(f"/rollouts/{rollout_id}")).text
    )
