"""The exposure of a case on a tiny fleet, computed by hand: each service and tenant is exposed
from the start until the fix reached the last of its units, summed as tenant-hours; outside
the case's team no tenant is named."""

from __future__ import annotations

from datetime import timedelta

from review.conftest import T0, Script, TinyFleet, deploy, record_at
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.fleet import blast
from vulnops.review import record
from vulnops.settings import Settings


async def test_tenant_hours_on_a_small_fleet(
    db: Database, settings: Settings, script: Script, tiny_fleet: TinyFleet
) -> None:
    case = await script([(Milestone.ACKNOWLEDGED, 1)], services=("api",))
    async with db.session() as session:
        await blast.compute(
            session,
            case_id=case.id,
            criteria=blast.BlastCriteria(services=["api"]),
            actor="test",
        )
        await session.commit()
    u = tiny_fleet.units
    await deploy(
        db,
        case_id=case.id,
        unit_times={
            u["u1"]: T0 + timedelta(hours=10),
            u["u2"]: T0 + timedelta(hours=30),
            u["u3"]: None,
        },
    )
    now = T0 + timedelta(hours=50)
    async with db.session() as session:
        found = (await record.generate(session, case_id=case.id, now=now)).exposure

    # By hand, from the report (no advisory says otherwise) at T0:
    #   Acme    on u1 (fixed at 10 h) and u2 (fixed at 30 h): until 30 h  -> 30 tenant-hours
    #   Globex  on u3 (not fixed):                            until now  -> 50
    #   Initech on u1:                                        until 10 h -> 10
    assert found.since == T0 and found.since_from == "report"
    assert found.tenant_hours == 90.0
    assert (found.tenants, found.services, found.still_exposed) == (3, 1, 1)
    rows = {(r.service, r.tenant): (r.units, r.resources, r.hours, r.until) for r in found.rows}
    assert rows == {
        ("api", "Acme"): (2, 3, 30.0, T0 + timedelta(hours=30)),
        ("api", "Globex"): (1, 1, 50.0, None),
        ("api", "Initech"): (1, 1, 10.0, T0 + timedelta(hours=10)),
    }
    async with db.session() as session:
        kept = await record.generate(session, case_id=case.id, now=now)
    hidden = record.for_viewer(kept, names_tenants=False, hidden=set())
    assert {r.tenant for r in hidden.exposure.rows} == {"customer 1", "customer 2", "customer 3"}
    assert {r.tenant_id for r in hidden.exposure.rows} == {0}
    assert "Acme" not in hidden.model_dump_json() and "Globex" not in hidden.model_dump_json()
    assert hidden.exposure.tenant_hours == 90.0

    # Mitigated by hand at 40 h (a configuration change, everywhere at once): Globex's unit,
    # which no rollout reached, is safe from then on: 30 + 40 + 10.
    await record_at(db, settings, case.id, Milestone.MITIGATED, T0 + timedelta(hours=40))
    async with db.session() as session:
        mitigated = (await record.generate(session, case_id=case.id, now=now)).exposure
    assert mitigated.tenant_hours == 80.0 and mitigated.still_exposed == 0


async def test_the_first_unit_point_is_the_earliest_deployed_unit(
    db: Database, script: Script, tiny_fleet: TinyFleet
) -> None:
    case = await script([(Milestone.ACKNOWLEDGED, 1)], services=("api",))
    u = tiny_fleet.units
    await deploy(
        db,
        case_id=case.id,
        unit_times={u["u2"]: T0 + timedelta(hours=7), u["u3"]: T0 + timedelta(hours=5, minutes=30)},
    )
    async with db.session() as session:
        found = await record.generate(session, case_id=case.id, now=T0 + timedelta(days=1))
    assert {d.key: d.hours for d in found.durations}["first_unit"] == 5.5
    assert found.exposure.since_from == "none" and found.exposure.rows == []
