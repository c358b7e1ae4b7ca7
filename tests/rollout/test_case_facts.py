"""A case follows its rollouts: deploying while one runs, mitigated when the fix runs on every
unit whatever state the case was in (what it skipped recorded as skipped), and no longer
mitigated when the fix is rolled back — on the simulated fleet, in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from disclosure.flows import approve_text
from helpers import PASSING_JUNIT, Clock
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import CaseState, Milestone
from vulnops.db.database import Database
from vulnops.disclosure import service as disclosure
from vulnops.remediation import service as remediation
from vulnops.rollout import operations, service
from vulnops.rollout.controller import Controller
from vulnops.settings import Settings

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"


async def _drive(controller: Controller, clock: Clock, rollout_id: int) -> None:
    for _ in range(2000):
        delay = await controller.tick(rollout_id)
        if delay is None:
            return
        clock.advance(delay)
    raise AssertionError("the rollout did not settle")


async def _case_with_a_ready_fix(
    db: Database, settings: Settings, clock: Clock, moves: list[CaseState]
) -> tuple[int, int]:
    """A storage case moved by hand through ``moves`` (nothing: still new), with a fix whose
    evidence passed."""
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title="Quota bypass in storage",
            summary="",
            services=["storage"],
            actor="t",
            settings=settings,
            now=clock.now,
        )
        for state in moves:
            await cases.transition(
                session,
                case_id=case.id,
                target=state,
                reason=None,
                actor="responder@example.com",
                now=clock.now,
                settings=settings,
            )
        fix = await remediation.create_fix(
            session,
            case_id=case.id,
            service_key="storage",
            version="2026.12.9",
            artifact="registry.example/storage:2026.12.9",
            notes="",
            actor="engineer@example.com",
        )
        for suite in ("compatibility", "data-integrity"):
            await remediation.add_evidence(
                session,
                fix_id=fix.id,
                suite=suite,
                data=PASSING_JUNIT,
                file_name=f"{suite}.xml",
                actor="engineer@example.com",
                now=clock.now,
                settings=settings,
            )
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=fix.id,
            policy_name="demo",
            actor="release@example.com",
            settings=settings,
            now=clock.now,
        )
        await session.commit()
        return case.id, rollout.id


async def _case(db: Database, case_id: int) -> tuple[Case, dict[str, bool]]:
    async with db.session() as session:
        case = await cases.get_case(session, case_id=case_id)
        facts = await milestones.reached(session, case_id=case_id)
        return case, {m.value: view.skipped for m, view in facts.items()}


@pytest.mark.parametrize(
    "moves",
    [[], [CaseState.TRIAGING], [CaseState.REMEDIATING]],
    ids=["new", "triaging", "remediating"],
)
async def test_a_completed_rollout_mitigates_the_case_whatever_its_state_and_a_rollback_undoes_it(
    db: Database,
    fleet: object,
    sim_settings: Settings,
    clock: Clock,
    moves: list[CaseState],
) -> None:
    case_id, rollout_id = await _case_with_a_ready_fix(db, sim_settings, clock, moves)
    case, facts = await _case(db, case_id)
    assert case.state == "deploying"
    assert {"fix_ready", "deployment_started"} <= set(facts)
    controller = Controller(database=db, settings=sim_settings, clock=clock)
    await _drive(controller, clock, rollout_id)
    case, facts = await _case(db, case_id)
    assert case.state == "mitigated"
    assert case.mitigated_at is not None and case.next_due is None
    # What the case had not reached by hand was recorded as skipped.
    expected_skipped = {"acknowledged": not moves, "triaged": CaseState.REMEDIATING not in moves}
    assert {m: facts[m] for m in expected_skipped} == expected_skipped
    assert facts["mitigated"] is False

    async with db.session() as session:
        await operations.roll_back(
            session,
            rollout_id=rollout_id,
            actor="release@example.com",
            now=clock.now,
            settings=sim_settings,
            reason="customers report errors",
        )
        await session.commit()
    await _drive(controller, clock, rollout_id)
    case, facts = await _case(db, case_id)
    assert case.state == "remediating"
    assert "mitigated" not in facts and "deployment_started" not in facts
    assert case.mitigated_at is None and case.next_due == case.mitigate_due
    async with db.session() as session:
        cleared = list(
            await session.scalars(
                text(
                    "SELECT data->>'milestone' FROM audit_events "
                    "WHERE kind = 'case.milestone_cleared' ORDER BY seq"
                )
            )
        )
    assert cleared == ["deployment_started", "mitigated"]


async def test_customers_told_before_the_fix_leave_the_case_notified_once_it_is_out(
    db: Database, fleet: object, sim_settings: Settings, clock: Clock
) -> None:
    case_id, rollout_id = await _case_with_a_ready_fix(
        db, sim_settings, clock, [CaseState.REMEDIATING]
    )
    async with db.session() as session:
        await milestones.record(
            session,
            case_id=case_id,
            milestones=[Milestone.CUSTOMERS_NOTIFIED],
            at=clock.now,
            actor="comms@example.com",
            source="advisory:1",
            settings=sim_settings,
        )
        await session.commit()
    case, _ = await _case(db, case_id)
    assert case.state == "deploying"
    await _drive(Controller(database=db, settings=sim_settings, clock=clock), clock, rollout_id)
    case, _ = await _case(db, case_id)
    assert case.state == "notified"
    # The CVE record's timeline names the deployment.
    cna = sim_settings.model_copy(update={"cna_org_id": ORG})
    await approve_text(db, cna, case_id)
    async with db.session() as session:
        facts = await disclosure.cve_facts(
            session, case_id=case_id, cve_id="CVE-2026-5555", settings=cna
        )
    assert [label for _, label in facts.timeline] == [
        "Reported",
        "Affected customers notified",
        "Fix deployed",
    ]
    assert facts.timeline[-1][0] > datetime(2026, 1, 1, tzinfo=UTC)
