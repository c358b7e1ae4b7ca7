"""The program metrics' read model, kept level-triggered: the triggers of migration 0033 mark a
case stale whenever a fact its points come from changes (a milestone, a report, a rollout or
one of its units, a variant link, a variant's closing); :func:`refresh` drains the marks and
derives those cases' rows again from the facts, in one set-based statement.

Deriving a row reads only facts, never the row before it, so a refresh that runs twice, or
after a crash at any point, leaves the same rows. The points are taken from the same places
the review of one case takes them (:func:`vulnops.review.record.points`): its milestones not
skipped, its rollouts' first deployed unit, its variants' closing; a test compares the two on
a generated history.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.review.measures import Point

_MILESTONES = tuple(p for p in Point if p not in (Point.FIRST_UNIT, Point.LAST_VARIANT_CLOSED))
_PIVOT = ",\n".join(
    f"           max(m.at) FILTER (WHERE m.milestone = '{p.value}') AS {p.value}"
    for p in _MILESTONES
)
_ENDED = (
    "coalesce(max(m.at) FILTER (WHERE m.milestone = 'closed'), "
    "max(m.at) FILTER (WHERE m.milestone = 'rejected'))"
)
_COLUMNS = (
    *(p.value for p in _MILESTONES),
    "first_unit",
    "last_variant_closed",
    "ended",
    "source",
    "rollouts",
    "rollouts_finished",
    "rollouts_rolled_back",
    "rollouts_halted",
)
_UPDATE = ",\n".join(f"    {c} = excluded.{c}" for c in _COLUMNS)

# One lock for every refresher: two refreshes at once would drain disjoint marks and then wait
# on each other's rows; one after the other, the second finds little or nothing to do.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vulnops.case_points'))"

_REFRESH = f"""
WITH drained AS (
    DELETE FROM case_points_stale RETURNING case_id
),
ids AS (
    SELECT DISTINCT c.id FROM drained d JOIN cases c ON c.id = d.case_id
),
pivot AS (
    SELECT m.case_id,
{_PIVOT},
           {_ENDED} AS ended
    FROM case_milestones m JOIN ids ON ids.id = m.case_id
    WHERE NOT m.skipped
    GROUP BY m.case_id
),
sources AS (
    SELECT DISTINCT ON (r.case_id) r.case_id, r.source
    FROM reports r JOIN ids ON ids.id = r.case_id
    ORDER BY r.case_id, r.id
),
rollouts_of AS (
    SELECT o.case_id, min(u.at) AS first_unit, count(*) AS rollouts,
           count(*) FILTER (WHERE o.status IN ('completed', 'rolled_back', 'aborted'))
               AS rollouts_finished,
           count(*) FILTER (WHERE o.status IN ('rolled_back', 'rolling_back'))
               AS rollouts_rolled_back,
           count(*) FILTER (WHERE o.status = 'halted') AS rollouts_halted
    FROM rollouts o
    JOIN ids ON ids.id = o.case_id
    CROSS JOIN LATERAL (
        SELECT min(x.deployed_at) AS at FROM rollout_units x WHERE x.rollout_id = o.id
    ) u
    GROUP BY o.case_id
),
variants AS (
    SELECT l.parent_id AS case_id,
           CASE WHEN bool_and(e.ended IS NOT NULL) THEN max(e.ended) END AS last_variant_closed
    FROM case_links l
    JOIN ids ON ids.id = l.parent_id
    CROSS JOIN LATERAL (
        SELECT {_ENDED} AS ended
        FROM case_milestones m WHERE m.case_id = l.child_id AND NOT m.skipped
    ) e
    GROUP BY l.parent_id
)
INSERT INTO case_points (case_id, {", ".join(_COLUMNS)})
SELECT ids.id, {", ".join(f"p.{p.value}" for p in _MILESTONES)},
       ro.first_unit, v.last_variant_closed, p.ended, s.source,
       coalesce(ro.rollouts, 0), coalesce(ro.rollouts_finished, 0),
       coalesce(ro.rollouts_rolled_back, 0), coalesce(ro.rollouts_halted, 0)
FROM ids
LEFT JOIN pivot p ON p.case_id = ids.id
LEFT JOIN sources s ON s.case_id = ids.id
LEFT JOIN rollouts_of ro ON ro.case_id = ids.id
LEFT JOIN variants v ON v.case_id = ids.id
ORDER BY ids.id
ON CONFLICT (case_id) DO UPDATE SET
{_UPDATE}
"""  # noqa: S608 - built from the constant list of points, no input


async def refresh(session: AsyncSession) -> int:
    """Derive again the rows of every case marked stale; the number of cases derived. The
    caller commits (and should soon: the lock is held until then)."""
    await session.execute(text(_LOCK))
    derived = await session.execute(text(_REFRESH))
    return int(derived.rowcount)  # type: ignore[attr-defined]
