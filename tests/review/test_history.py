"""The generated history (the demo's year, the benchmark's 20,000 cases) is made of facts the
rest of the product reads like any others: each case's state is what its milestones derive,
its durations are ordered, its mitigation is when its last unit got the fix, and the reviews
published from it carry real exposure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select, text

from helpers import FLEET_SEED, MakeUser
from vulnops.auth.roles import Role
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone, derive_state
from vulnops.db.database import Database
from vulnops.fleet import generator, importer
from vulnops.review import history, measures, metrics, record
from vulnops.review.schemas_metrics import MetricsFilter, ProgramMetrics
from vulnops.settings import Settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _chunks(pieces: Iterator[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece.encode()


async def test_a_generated_year_is_consistent(
    db: Database, settings: Settings, fleet: dict[str, object], make_user: MakeUser
) -> None:
    owner = await make_user(Role.ENGINEER)
    async with db.session() as session:
        await importer.import_bundle(
            session,
            actor="test",
            resources=(
                _chunks(
                    generator.csv_text(
                        generator.resource_rows(FLEET_SEED, "small", fleet),
                        importer.RESOURCE_COLUMNS,
                    )
                ),
                "resources.csv",
            ),
        )
        made = await history.generate(
            session, cases=300, now=NOW, settings=settings, owners=[owner.id], reviews=12
        )
        await session.commit()
    assert (made.cases, made.reviews) == (300, 12)
    async with db.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT c.id, c.state, c.mitigated_at, array_agg(m.milestone) AS reached, "
                    "max(m.at) FILTER (WHERE m.milestone = 'mitigated') AS mitigated, "
                    "max(m.at) FILTER (WHERE m.milestone = 'closed') AS closed, "
                    "(SELECT max(u.deployed_at) FROM rollouts o JOIN rollout_units u "
                    " ON u.rollout_id = o.id WHERE o.case_id = c.id AND o.status = 'completed')"
                    " AS last_unit, "
                    "(SELECT count(*) FROM reports r WHERE r.case_id = c.id) AS reports "
                    "FROM cases c JOIN case_milestones m ON m.case_id = c.id GROUP BY c.id"
                )
            )
        ).all()
        published = (
            await session.execute(
                text(
                    "SELECT count(*), max(tenant_hours), sum(tenant_hours), "
                    "bool_and(tenant_hours = "
                    "CAST(record -> 'exposure' ->> 'tenant_hours' AS float))"
                    " FROM reviews WHERE state = 'published'"
                )
            )
        ).one()
    assert len(rows) == 300
    for row in rows:
        assert row.state == derive_state({Milestone(m) for m in row.reached}).value == "closed"
        assert row.mitigated == row.mitigated_at == row.last_unit
        assert row.closed < NOW and row.reports == 1
    assert published[0] == 12 and published[1] > 0 and published[3]
    async with db.session() as session:
        program = await metrics.program(
            session, viewer=None, given=MetricsFilter(start="2025-12", end="2026-11"), now=NOW
        )
    assert program.cases == 300
    for measure in program.metrics:
        if measure.key != "last_variant":
            assert measure.overall is not None and measure.overall.cases > 0, measure.key
    whole = next(m for m in program.metrics if m.key == "whole_fleet")
    first = next(m for m in program.metrics if m.key == "first_unit")
    assert whole.overall and first.overall
    assert whole.overall.median_hours > first.overall.median_hours
    assert {g.name for g in whole.by_source} == {
        "researcher",
        "internal",
        "scanner",
        "partner",
        "detection",
    }
    assert program.rollouts.rolled_back > 0 and program.variants > 0 and program.bypasses > 0
    assert sum(m.count for m in program.satisfaction_by_month) > 0
    assert sum(m.value for m in program.exposure_by_month) == pytest.approx(published[2])
    assert sum(m.count for m in program.exposure_by_month) == 12
    await _the_program_agrees_with_each_case(db, program)


async def _the_program_agrees_with_each_case(db: Database, program: ProgramMetrics) -> None:
    """The one SQL statement of the program and the review of each case (its points read one
    by one, its durations from :mod:`vulnops.review.measures`) give the same figures."""
    async with db.session() as session:
        ids = list(await session.scalars(select(Case.id)))
        per_case = [measures.durations(await record.points(session, case_id=i)) for i in ids]
    for measure in program.metrics:
        found = [d[measure.key] for d in per_case if d[measure.key] is not None]
        if not found:
            assert measure.overall is None, measure.key
            continue
        assert measure.overall is not None, measure.key
        assert measure.overall.cases == len(found), measure.key
        assert measure.overall.median_hours == pytest.approx(np.percentile(found, 50))
        assert measure.overall.p90_hours == pytest.approx(np.percentile(found, 90))
