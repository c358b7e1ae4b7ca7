"""The program's metrics, computed in one SQL statement over the cases the viewer may see.

Each measure of :data:`vulnops.review.measures.METRICS` is a duration between two points of a
case, read from the case's row of points (:mod:`vulnops.review.case_points`, a read model the
facts' triggers keep stale-marked and this refreshes before reading): the points come from the
same places the review of one case takes them, so a case's review and the program's table
never disagree (a test compares them on a generated history). The chosen cases' durations are
one ``MATERIALIZED`` row each; every figure (percentiles per rating, source, service and
month, SLA compliance, rollbacks and bypasses, action items, exposure, satisfaction) is
aggregated from those rows and returned as one JSON document, in one round trip.

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
from vulnops.review import case_points
from vulnops.review.measures import METRICS
from vulnops.review.schemas_metrics import MetricsFilter, ProgramMetrics

# Each measure of a case in hours, in double precision (the percentiles sort these, and floats
# sort several times faster than the numerics ``extract`` gives): NULL when either point is
# missing, zero when they were recorded out of order (as ``measures.hours`` does).
_HOURS = ",\n".join(
    f"           CASE WHEN p.{m.end.value} >= p.{m.start.value} "
    f"THEN date_part('epoch', p.{m.end.value} - p.{m.start.value}) / 3600 "
    f"WHEN p.{m.end.value} < p.{m.start.value} THEN 0.0 END AS {m.key}"
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

# The cases chosen from their rows of points (kept by :mod:`vulnops.review.case_points`), one
# ``MATERIALIZED`` row each with its durations: every figure is aggregated from those rows.
_SQL = f"""
WITH base AS MATERIALIZED (
    SELECT p.case_id AS id, c.rating, c.services, p.source,
           p.rollouts, p.rollouts_finished, p.rollouts_rolled_back, p.rollouts_halted,
           to_char(date_trunc('month', p.reported AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
{_DEADLINE_STATUS},
{_HOURS}
    FROM case_points p
    JOIN cases c ON c.id = p.case_id
    WHERE p.reported >= :since AND p.reported < :until
      AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
      AND (CAST(:rating AS text) IS NULL OR c.rating = :rating)
      AND (CAST(:service AS text) IS NULL OR c.services @> ARRAY[CAST(:service AS varchar)])
      AND (CAST(:source AS text) IS NULL OR p.source = :source)
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
    # The read model is brought up to date and committed first, on its own, so a refresh never
    # holds its lock for the length of a read and concurrent readers do not queue.
    await case_points.refresh(session)
    await session.commit()
    # The planner cannot know the CTE holds one row per case and estimates the joins to it at
    # millions of rows: it would spend longer compiling the statement with JIT than running
    # it, and after a few runs of the prepared statement switch to a generic plan (blind to
    # the period and filters) that is far slower. Both only for this transaction.
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
