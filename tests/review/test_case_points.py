"""The metrics' read model follows the facts: each kind of change a point comes from (a
milestone, a report, a rollout and its units, a variant link and the variant's closing) marks
the case stale, and the next refresh derives the same points the review of the case reads
from the facts one by one. A refresh rolled back leaves the marks for the next one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from review.conftest import T0, Script, TinyFleet, deploy, record_at
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.intake.models import Report
from vulnops.review import case_points, record
from vulnops.review.measures import Point
from vulnops.review.models import CasePoints, StalePoints
from vulnops.rollout.models import RolloutUnit
from vulnops.settings import Settings
from vulnops.variants import links


async def _refreshed(db: Database, case_id: int) -> dict[Point, object]:
    """Refresh, then the case's row of points; checked against the review's own reading."""
    async with db.session() as session:
        await case_points.refresh(session)
        await session.commit()
    async with db.session() as session:
        row = await session.get(CasePoints, case_id)
        assert row is not None
        assert await session.scalar(select(func.count()).select_from(StalePoints)) == 0
        expected = await record.points(session, case_id=case_id)
    found = {p: getattr(row, p.value) for p in Point if getattr(row, p.value) is not None}
    assert found == expected
    return found


async def test_every_fact_a_point_comes_from_refreshes_the_row(
    db: Database, settings: Settings, script: Script, tiny_fleet: TinyFleet
) -> None:
    case = await script([(Milestone.ACKNOWLEDGED, 2.0)])
    found = await _refreshed(db, case.id)
    assert found == {Point.REPORTED: T0, Point.ACKNOWLEDGED: T0 + timedelta(hours=2)}

    await record_at(db, settings, case.id, Milestone.TRIAGED, T0 + timedelta(hours=5))
    assert (await _refreshed(db, case.id))[Point.TRIAGED] == T0 + timedelta(hours=5)

    first = T0 + timedelta(hours=30)
    units = tiny_fleet.units
    rollout = await deploy(db, case_id=case.id, unit_times={units["u1"]: first, units["u2"]: None})
    assert (await _refreshed(db, case.id))[Point.FIRST_UNIT] == first
    earlier = T0 + timedelta(hours=20)
    async with db.session() as session:
        await session.execute(
            update(RolloutUnit)
            .where(RolloutUnit.rollout_id == rollout, RolloutUnit.unit_id == units["u2"])
            .values(status="deployed", deployed_at=earlier)
        )
        await session.commit()
    assert (await _refreshed(db, case.id))[Point.FIRST_UNIT] == earlier

    async with db.session() as session:
        report = Report(source="partner", title="Seen by a partner", description="x")
        session.add(report)
        await session.flush()
        await session.execute(update(Report).where(Report.id == report.id).values(case_id=case.id))
        await session.commit()
    await _refreshed(db, case.id)
    async with db.session() as session:
        assert (await session.get(CasePoints, case.id)).source == "partner"  # type: ignore[union-attr]

    variant = await script([], start=T0 + timedelta(days=3), title="The same replay elsewhere")
    async with db.session() as session:
        await links.link(
            session, child_id=variant.id, parent_id=case.id, relation="variant", actor="test"
        )
        await session.commit()
    assert Point.LAST_VARIANT_CLOSED not in await _refreshed(db, case.id)
    closed = T0 + timedelta(days=9)
    for milestone in (Milestone.TRIAGED, Milestone.MITIGATED, Milestone.CLOSED):
        await record_at(db, settings, variant.id, milestone, closed)
    assert (await _refreshed(db, case.id))[Point.LAST_VARIANT_CLOSED] == closed


async def test_a_refresh_rolled_back_leaves_its_marks_and_a_second_finds_nothing(
    db: Database, script: Script
) -> None:
    case = await script([(Milestone.ACKNOWLEDGED, 1.0)])
    async with db.session() as session:
        assert await case_points.refresh(session) == 1
        await session.rollback()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(StalePoints)) > 0
        assert await session.get(CasePoints, case.id) is None
        assert await case_points.refresh(session) == 1
        await session.commit()
    async with db.session() as session:
        assert await case_points.refresh(session) == 0
        await session.commit()
    assert (await _refreshed(db, case.id))[Point.ACKNOWLEDGED] == T0 + timedelta(hours=1)
