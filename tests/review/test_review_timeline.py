"""A case scripted in virtual time: its review's timeline, durations and deadlines are the
milestones' own times, and the program's metrics over it give the same durations."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from review.conftest import T0, Script
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.review import metrics, record
from vulnops.review.models import Review
from vulnops.review.schemas_metrics import MetricsFilter
from vulnops.settings import Settings

STEPS = [
    (Milestone.ACKNOWLEDGED, 2),
    (Milestone.TRIAGED, 30),  # the important rating's triage deadline is 24 h: missed
    (Milestone.FIX_READY, 40),
    (Milestone.MITIGATED, 72),
    (Milestone.CUSTOMERS_NOTIFIED, 74),
    (Milestone.PUBLIC, 240),
]


async def test_the_timeline_durations_and_deadlines_follow_the_milestones(
    db: Database, settings: Settings, script: Script
) -> None:
    case = await script(STEPS)
    now = T0 + timedelta(days=20)
    async with db.session() as session:
        started = await session.get(Review, case.id)
        assert started is not None, "an important case gets its review when it is mitigated"
        assert started.started_at == T0 + timedelta(hours=72) and started.state == "draft"
        found = await record.generate(session, case_id=case.id, now=now)

    assert [(p.point.value, p.hours_since_previous) for p in found.points] == [
        ("reported", None),
        ("acknowledged", 2.0),
        ("triaged", 28.0),
        ("fix_ready", 10.0),
        ("mitigated", 32.0),
        ("customers_notified", 2.0),
        ("public", 166.0),
    ]
    assert {d.key: d.hours for d in found.durations} == {
        "acknowledge": 2.0,
        "triage": 30.0,
        "fix_ready": 40.0,
        "first_unit": None,  # mitigated without a rollout: no unit ran a fix
        "whole_fleet": 72.0,
        "notified": 74.0,
        "disclosure": 240.0,
        "last_variant": None,
    }
    by_name = {d.name: d for d in found.deadlines}
    assert by_name["acknowledge"].due == T0 + timedelta(hours=4)
    assert by_name["acknowledge"].status == "met"
    assert by_name["triage"].due == T0 + timedelta(hours=24)
    assert by_name["triage"].status == "missed"
    assert by_name["mitigate"].due == T0 + timedelta(days=7)
    assert by_name["mitigate"].status == "met"
    assert [e.at for e in found.timeline] == sorted(e.at for e in found.timeline)
    assert any("mitigated" in e.sentence.lower() for e in found.timeline)

    async with db.session() as session:
        program = await metrics.program(
            session, viewer=None, given=MetricsFilter(start="2026-03", end="2026-03"), now=now
        )
    assert program.cases == 1
    medians = {m.key: m.overall.median_hours if m.overall else None for m in program.metrics}
    assert medians == {d.key: d.hours for d in found.durations}
    assert [(s.deadline, s.met, s.missed, s.open) for s in program.sla] == [
        ("acknowledge", 1, 0, 0),
        ("triage", 0, 1, 0),
        ("mitigate", 1, 0, 0),
    ]


async def test_percentiles_per_rating_and_month_match_numpy(
    db: Database, settings: Settings, script: Script
) -> None:
    hours = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0]
    ratings = ["critical", "important"] * 5
    for i, (took, rating) in enumerate(zip(hours, ratings, strict=True)):
        await script(
            [(Milestone.ACKNOWLEDGED, took)], start=T0 + timedelta(days=20 * (i % 2)), rating=rating
        )
    async with db.session() as session:
        program = await metrics.program(
            session,
            viewer=None,
            given=MetricsFilter(start="2026-01", end="2026-06"),
            now=T0 + timedelta(days=90),
        )
    acknowledge = next(m for m in program.metrics if m.key == "acknowledge")
    assert acknowledge.overall is not None and acknowledge.overall.cases == 10
    assert acknowledge.overall.median_hours == np.percentile(hours, 50)
    assert abs(acknowledge.overall.p90_hours - np.percentile(hours, 90)) < 1e-9
    for group in acknowledge.by_rating:
        mine = [h for h, r in zip(hours, ratings, strict=True) if r == group.name]
        assert group.cell.cases == len(mine)
        assert abs(group.cell.median_hours - np.percentile(mine, 50)) < 1e-9
        assert abs(group.cell.p90_hours - np.percentile(mine, 90)) < 1e-9
    # Critical cases were reported on T0 (March), important ones 20 days later (March 22).
    assert [(g.name, g.cell.cases) for g in acknowledge.by_month] == [("2026-03", 10)]
    assert [g.name for g in acknowledge.by_rating] == ["critical", "important"]
    assert {g.name for g in acknowledge.by_source} == {"no report"}
    # The period filter: nothing was reported in April.
    async with db.session() as session:
        april = await metrics.program(
            session,
            viewer=None,
            given=MetricsFilter(start="2026-04", end="2026-04"),
            now=T0 + timedelta(days=90),
        )
        reviews = list(await session.scalars(select(Review)))
    assert april.cases == 0 and april.metrics[0].overall is None
    assert reviews == []  # none of them was mitigated
