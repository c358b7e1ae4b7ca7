"""The program's metrics, computed in one SQL statement over the cases the viewer may see.

Each measure of :data:`vulnops.review.measures.METRICS` is a duration between two points of a
case: the SQL below takes them from the same places the review of one case does (its
milestones not skipped, its rollouts' first deployed unit, its variants' closing), so a case's
review and the program's table never disagree. One ``MATERIALIZED`` pass builds a row per case
(its points, rating, first report's source, services); every figure (percentiles per rating,
source, service and month, SLA compliance, rollbacks and bypasses, action items, exposure,
satisfaction) is aggregated from it and returned as one JSON document, in one round trip.

This reads the tables of several domains in one statement, like the classes page does: a
program view across the lifecycle, read-only, and the one place that does so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.review.measures import METRICS, Point
from vulnops.review.schemas_metrics import MetricsFilter, ProgramMetrics

_POINT_SQL: dict[Point, str] = {
    Point.FIRST_UNIT: "fu.at",
    Point.LAST_VARIANT_CLOSED: "lv.at",
}


def _point(point: Point) -> str:
    return _POINT_SQL.get(point, f"max(m.at) FILTER (WHERE m.milestone = '{point.value}')")


_BASE_POINTS = ",\n".join(f"        {_point(p)} AS {p.value}" for p in Point)
# Hours from start to end: NULL when either is missing (GREATEST would turn NULL into 0),
# zero when they were recorded out of order (as ``measures.hours`` does).
_LONG = ",\n".join(
    f"        ('{m.key}', CASE WHEN b.{m.end.value} >= b.{m.start.value} "
    f"THEN extract(epoch FROM b.{m.end.value} - b.{m.start.value}) / 3600.0 "
    f"WHEN b.{m.end.value} < b.{m.start.value} THEN 0.0 END)"
    for m in METRICS
)

_SQL = f"""
WITH base AS MATERIALIZED (
    SELECT c.id, c.rating, c.services, src.source,
           c.acknowledge_due, c.triage_due, c.mitigate_due,
           c.acknowledged_at, c.triaged_at, c.mitigated_at,
{_BASE_POINTS}
    FROM cases c
    JOIN case_milestones m ON m.case_id = c.id AND NOT m.skipped
    LEFT JOIN LATERAL (
        SELECT r.source FROM reports r WHERE r.case_id = c.id ORDER BY r.id LIMIT 1
    ) src ON true
    LEFT JOIN LATERAL (
        SELECT min(u.deployed_at) AS at FROM rollouts o
        JOIN rollout_units u ON u.rollout_id = o.id WHERE o.case_id = c.id
    ) fu ON true
    LEFT JOIN LATERAL (
        SELECT CASE WHEN count(*) > 0 AND bool_and(f.at IS NOT NULL) THEN max(f.at) END AS at
        FROM case_links l
        LEFT JOIN LATERAL (
            SELECT min(x.at) AS at FROM case_milestones x
            WHERE x.case_id = l.child_id AND x.milestone IN ('closed', 'rejected')
        ) f ON true
        WHERE l.parent_id = c.id
    ) lv ON true
    WHERE NOT (c.id = ANY(CAST(:hidden AS bigint[])))
      AND (CAST(:rating AS text) IS NULL OR c.rating = :rating)
      AND (CAST(:service AS text) IS NULL OR c.services @> ARRAY[CAST(:service AS varchar)])
      AND (CAST(:source AS text) IS NULL OR src.source = :source)
    GROUP BY c.id, src.source, fu.at, lv.at
    HAVING max(m.at) FILTER (WHERE m.milestone = 'reported') >= :since
       AND max(m.at) FILTER (WHERE m.milestone = 'reported') < :until
),
long AS MATERIALIZED (
    SELECT b.id, b.rating, b.source, b.services,
           to_char(date_trunc('month', b.reported AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
           v.metric, v.hours
    FROM base b CROSS JOIN LATERAL (VALUES
{_LONG}
    ) AS v(metric, hours)
    WHERE v.hours IS NOT NULL
),
cells AS (
    SELECT metric, rating, source, month,
           GROUPING(rating, source, month) AS level,
           count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90
    FROM long
    GROUP BY GROUPING SETS ((metric), (metric, rating), (metric, source), (metric, month))
),
service_cells AS (
    SELECT metric, s AS service, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90
    FROM long, unnest(services) s
    GROUP BY metric, s
),
deadlines AS (
    SELECT d.name, b.rating,
           CASE WHEN d.due IS NULL THEN 'none'
                WHEN d.met IS NOT NULL AND d.met <= d.due THEN 'met'
                WHEN d.met IS NOT NULL OR d.due < :now THEN 'missed'
                ELSE 'open' END AS status
    FROM base b CROSS JOIN LATERAL (VALUES
        ('acknowledge', b.acknowledge_due, b.acknowledged_at),
        ('triage', b.triage_due, b.triaged_at),
        ('mitigate', b.mitigate_due, b.mitigated_at)
    ) AS d(name, due, met)
),
rollouts_of AS (
    SELECT o.status FROM rollouts o JOIN base b ON b.id = o.case_id
)
SELECT json_build_object(
    'cases', (SELECT count(*) FROM base),
    'cells', (SELECT coalesce(json_agg(cells), '[]') FROM cells),
    'service_cells', (SELECT coalesce(json_agg(service_cells), '[]') FROM service_cells),
    'cases_by_month', (
        SELECT coalesce(json_agg(x ORDER BY x.month), '[]') FROM (
            SELECT to_char(date_trunc('month', reported AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
                   count(*) AS n
            FROM base GROUP BY 1) x),
    'sla', (
        SELECT coalesce(json_agg(x), '[]') FROM (
            SELECT name, rating, status, GROUPING(rating) AS overall, count(*) AS n
            FROM deadlines
            GROUP BY GROUPING SETS ((name, status), (name, rating, status))) x),
    'rollouts', (
        SELECT json_build_object(
            'total', count(*),
            'finished', count(*) FILTER (WHERE status IN ('completed', 'rolled_back', 'aborted')),
            'rolled_back', count(*) FILTER (WHERE status IN ('rolled_back', 'rolling_back')),
            'halted', count(*) FILTER (WHERE status = 'halted'))
        FROM rollouts_of),
    'links', (
        SELECT coalesce(json_object_agg(relation, n), '{{}}') FROM (
            SELECT l.relation, count(*) AS n FROM case_links l JOIN base b ON b.id = l.parent_id
            GROUP BY l.relation) x),
    'action_items', (
        SELECT json_build_object(
            'open', count(*) FILTER (WHERE a.done_at IS NULL),
            'overdue', count(*) FILTER (WHERE a.done_at IS NULL AND a.due < :today),
            'done', count(*) FILTER (WHERE a.done_at IS NOT NULL))
        FROM review_action_items a JOIN base b ON b.id = a.case_id),
    'exposure', (
        SELECT coalesce(json_agg(x ORDER BY x.month), '[]') FROM (
            SELECT to_char(date_trunc('month', b.reported AT TIME ZONE 'UTC'), 'YYYY-MM')
                       AS month,
                   sum(r.tenant_hours) AS tenant_hours, count(*) AS reviews
            FROM reviews r JOIN base b ON b.id = r.case_id
            WHERE r.state = 'published' GROUP BY 1) x),
    'satisfaction', (
        SELECT coalesce(json_agg(x ORDER BY x.month), '[]') FROM (
            SELECT to_char(date_trunc('month', f.given_at AT TIME ZONE 'UTC'), 'YYYY-MM')
                       AS month,
                   avg(f.rating) AS average, count(*) AS answers,
                   count(*) FILTER (WHERE f.rating >= 4) AS satisfied
            FROM advisory_feedback f
            JOIN advisories a ON a.id = f.advisory_id
            JOIN base b ON b.id = a.case_id
            GROUP BY 1) x)
)
"""  # noqa: S608 - built from the constant table of measures, no input


async def program(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    given: MetricsFilter,
    now: datetime,
) -> ProgramMetrics:
    """Every figure of the program dashboard for the cases reported in the period (and of the
    rating, source and service asked for) that the viewer may see."""
    since, until = given.bounds(now)
    found: dict[str, Any] = (
        await session.execute(
            text(_SQL),
            {
                "hidden": await access.hidden_ids(session, viewer=viewer),
                "rating": given.rating,
                "service": given.service,
                "source": given.source,
                "since": since,
                "until": until,
                "now": now,
                "today": now.date(),
            },
        )
    ).scalar_one()
    return ProgramMetrics.from_sql(found, given=given, since=since, until=until)
