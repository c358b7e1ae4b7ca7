"""The program's metrics, computed in one SQL statement over the cases the viewer may see.

Each measure of :data:`vulnops.review.measures.METRICS` is a duration between two points of a
case: the SQL below takes them from the same places the review of one case does (its
milestones not skipped, its rollouts' first deployed unit, its variants' closing), so a case's
review and the program's table never disagree (a test compares them on a generated history).
The cases are chosen first; one pass over each fact joins to them; a ``MATERIALIZED`` row per
case holds its durations; every figure (percentiles per rating, source, service and month, SLA
compliance, rollbacks and bypasses, action items, exposure, satisfaction) is aggregated from
those rows and returned as one JSON document, in one round trip.

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

_LATER = tuple(
    p for p in Point if p not in (Point.REPORTED, Point.FIRST_UNIT, Point.LAST_VARIANT_CLOSED)
)
_PIVOT = ",\n".join(
    f"           max(m.at) FILTER (WHERE m.milestone = '{p.value}') AS {p.value}" for p in _LATER
)
# Each measure of a case in hours, in double precision (the percentiles sort these, and floats
# sort several times faster than the numerics ``extract`` gives): NULL when either point is
# missing, zero when they were recorded out of order (as ``measures.hours`` does).
_HOURS = ",\n".join(
    f"           CASE WHEN {m.end.value} >= {m.start.value} "
    f"THEN date_part('epoch', {m.end.value} - {m.start.value}) / 3600 "
    f"WHEN {m.end.value} < {m.start.value} THEN 0.0 END AS {m.key}"
    for m in METRICS
)
# Both percentiles of every measure in one sort each, with the count of cases that have it.
_PERCENTILES = ",\n".join(
    f"           count({m.key}) AS {m.key}_n, "
    f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {m.key}) AS {m.key}_p"
    for m in METRICS
)
# One row per measure from a row of percentiles, for groups where some case has it.
_UNPIVOT = ",\n".join(f"        ('{m.key}', g.{m.key}_n, g.{m.key}_p)" for m in METRICS)
# Each deadline of a case: met (done by its due time), missed (done late, or still not done
# past it), open (not done, not yet due) or none (the case has no such deadline).
_DEADLINES = (("acknowledge", "acknowledged"), ("triage", "triaged"), ("mitigate", "mitigated"))
_STATUSES = ("met", "missed", "open", "none")
_DEADLINE_STATUS = ",\n".join(
    f"           CASE WHEN c.{name}_due IS NULL THEN 'none' "
    f"WHEN c.{done}_at IS NOT NULL AND c.{done}_at <= c.{name}_due THEN 'met' "
    f"WHEN c.{done}_at IS NOT NULL OR c.{name}_due < :now THEN 'missed' "
    f"ELSE 'open' END AS {name}_sla"
    for name, done in _DEADLINES
)
_SLA_COUNTS = ",\n".join(
    f"           count(*) FILTER (WHERE {name}_sla = '{status}') AS {name}_{status}"
    for name, _ in _DEADLINES
    for status in _STATUSES
)
_SLA_UNPIVOT = ",\n".join(
    f"        ('{name}', '{status}', g.{name}_{status})"
    for name, _ in _DEADLINES
    for status in _STATUSES
)

# Every step is a set-based join over the chosen cases: at 20,000 cases one pass over a table
# costs less than 20,000 index probes into it. The exception is a rollout's first deployed
# unit, one probe of ``ix_rollout_units_deployed`` per rollout instead of reading every unit.
_SQL = f"""
WITH chosen AS MATERIALIZED (
    SELECT c.id, c.rating, c.services, r.at AS reported,
{_DEADLINE_STATUS}
    FROM case_milestones r
    JOIN cases c ON c.id = r.case_id
    WHERE r.milestone = 'reported' AND NOT r.skipped
      AND r.at >= :since AND r.at < :until
      AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
      AND (CAST(:rating AS text) IS NULL OR c.rating = :rating)
      AND (CAST(:service AS text) IS NULL OR c.services @> ARRAY[CAST(:service AS varchar)])
),
pivot AS MATERIALIZED (
    SELECT m.case_id,
{_PIVOT},
           coalesce(max(m.at) FILTER (WHERE m.milestone = 'closed'),
                    max(m.at) FILTER (WHERE m.milestone = 'rejected')) AS ended
    FROM case_milestones m
    WHERE NOT m.skipped
    GROUP BY m.case_id
),
sources AS (
    SELECT DISTINCT ON (r.case_id) r.case_id, r.source
    FROM reports r JOIN chosen ch ON ch.id = r.case_id
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
    JOIN chosen ch ON ch.id = o.case_id
    CROSS JOIN LATERAL (
        SELECT min(x.deployed_at) AS at FROM rollout_units x WHERE x.rollout_id = o.id
    ) u
    GROUP BY o.case_id
),
variants AS (
    SELECT l.parent_id AS case_id,
           CASE WHEN bool_and(f.ended IS NOT NULL) THEN max(f.ended) END AS last_variant_closed
    FROM case_links l
    JOIN chosen ch ON ch.id = l.parent_id
    LEFT JOIN pivot f ON f.case_id = l.child_id
    GROUP BY l.parent_id
),
points AS (
    SELECT ch.*, p.*, s.source, v.last_variant_closed,
           ro.first_unit, ro.rollouts, ro.rollouts_finished, ro.rollouts_rolled_back,
           ro.rollouts_halted
    FROM chosen ch
    LEFT JOIN pivot p ON p.case_id = ch.id
    LEFT JOIN sources s ON s.case_id = ch.id
    LEFT JOIN rollouts_of ro ON ro.case_id = ch.id
    LEFT JOIN variants v ON v.case_id = ch.id
    WHERE CAST(:source AS text) IS NULL OR s.source = :source
),
base AS MATERIALIZED (
    SELECT id, rating, services, source,
           acknowledge_sla, triage_sla, mitigate_sla,
           rollouts, rollouts_finished, rollouts_rolled_back, rollouts_halted,
           to_char(date_trunc('month', reported AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
{_HOURS}
    FROM points
),
grouped AS (
    SELECT rating, source, month, GROUPING(rating, source, month) AS level,
{_PERCENTILES}
    FROM base
    GROUP BY GROUPING SETS ((), (rating), (source), (month))
),
cells AS (
    SELECT v.metric, g.rating, g.source, g.month, g.level, v.n, v.p[1] AS p50, v.p[2] AS p90
    FROM grouped g CROSS JOIN LATERAL (VALUES
{_UNPIVOT}
    ) AS v(metric, n, p)
    WHERE v.n > 0
),
service_grouped AS (
    SELECT s AS service,
{_PERCENTILES}
    FROM base, unnest(services) s
    GROUP BY s
),
service_cells AS (
    SELECT v.metric, g.service, v.n, v.p[1] AS p50, v.p[2] AS p90
    FROM service_grouped g CROSS JOIN LATERAL (VALUES
{_UNPIVOT}
    ) AS v(metric, n, p)
    WHERE v.n > 0
),
sla_grouped AS (
    SELECT rating, GROUPING(rating) AS overall,
{_SLA_COUNTS}
    FROM base
    GROUP BY GROUPING SETS ((), (rating))
),
sla AS (
    SELECT v.name, g.rating, v.status, g.overall, v.n
    FROM sla_grouped g CROSS JOIN LATERAL (VALUES
{_SLA_UNPIVOT}
    ) AS v(name, status, n)
    WHERE v.n > 0
)
SELECT json_build_object(
    'cases', (SELECT count(*) FROM base),
    'cells', (SELECT coalesce(json_agg(cells), '[]') FROM cells),
    'service_cells', (SELECT coalesce(json_agg(service_cells), '[]') FROM service_cells),
    'cases_by_month', (
        SELECT coalesce(json_agg(x ORDER BY x.month), '[]') FROM (
            SELECT month, count(*) AS n FROM base GROUP BY 1) x),
    'sla', (SELECT coalesce(json_agg(sla), '[]') FROM sla),
    'rollouts', (
        SELECT json_build_object(
            'total', coalesce(sum(rollouts), 0),
            'finished', coalesce(sum(rollouts_finished), 0),
            'rolled_back', coalesce(sum(rollouts_rolled_back), 0),
            'halted', coalesce(sum(rollouts_halted), 0))
        FROM base),
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
            SELECT b.month, sum(r.tenant_hours) AS tenant_hours, count(*) AS reviews
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
    # The planner cannot know each CTE holds one row per case and estimates the joins at
    # billions of rows: it would spend seconds compiling the statement with JIT for a
    # sub-second run, and after a few runs of the prepared statement switch to a generic plan
    # (blind to the period and filters) that takes minutes. Both only for this transaction.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
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
