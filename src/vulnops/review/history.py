"""A generated history of closed cases, for the demo's dashboard (a year of it) and the
metrics benchmark (20,000 cases): cases with their first report, milestones, deadlines, fixes
and rollouts over every unit of their service, variants and bypasses, advisories with the
customers' acknowledgments and ratings, and — for some important ones — a published review
whose record is generated from those facts like any other.

Everything but the reviews is written set-based (``INSERT … SELECT`` over one temporary table
of draws); the draws are seeded, so the same seed gives the same history. Durations shrink
over the year (older cases were slower), so the trend lines have something to show. Every
case is closed at least a day before ``now``: the history never adds open work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases.deadlines import sla_policy
from vulnops.cases.severity import Rating
from vulnops.fleet import blast
from vulnops.review import record
from vulnops.review.models import ActionItem, Review
from vulnops.rollout import service as rollouts
from vulnops.settings import Settings

ACTOR = "history"
TITLES = (
    ("Server-side request forgery in a URL preview", 918),
    ("Tenant id not checked on an object read", 639),
    ("Stored XSS in an admin view", 79),
    ("SQL injection in a sort parameter", 89),
    ("Path traversal in an archive upload", 22),
    ("Missing authorization on an internal API", 862),
    ("Secrets written to debug logs", 532),
    ("Session token accepted after sign-out", 613),
    ("Unbounded regular expression on user input", 1333),
    ("Deserialization of untrusted job payloads", 502),
)

_DRAWS = """
CREATE TEMP TABLE review_history ON COMMIT DROP AS
WITH draws AS (
    SELECT n, random() AS r_rating, random() AS r_source, random() AS r_service,
           random() AS r_age, random() AS r_title, random() AS a, random() AS b, random() AS c,
           random() AS d, random() AS e, random() AS f, random() AS g, random() AS h
    FROM generate_series(1, :cases) AS n
), shaped AS (
    SELECT n, a, b, c, d, e, f, g, h, r_age, 1 + floor(r_title * :titles)::int AS title_no,
           CASE WHEN r_rating < 0.08 THEN 'critical' WHEN r_rating < 0.35 THEN 'important'
                WHEN r_rating < 0.75 THEN 'moderate' ELSE 'low' END AS rating,
           (CAST(:services AS text[]))[
               1 + floor(r_service * cardinality(CAST(:services AS text[])))::int] AS service,
           CASE WHEN r_source < 0.35 THEN 'researcher' WHEN r_source < 0.6 THEN 'internal'
                WHEN r_source < 0.8 THEN 'scanner' WHEN r_source < 0.9 THEN 'partner'
                ELSE 'detection' END AS source,
           CAST(:now AS timestamptz) - (45 + r_age * :span_days) * interval '1 day' AS reported
    FROM draws
), scaled AS (
    SELECT s.*, (CASE rating WHEN 'critical' THEN 0.25 WHEN 'important' THEN 1
                 WHEN 'moderate' THEN 3 ELSE 6 END) * (0.7 + 0.9 * r_age) AS k
    FROM shaped s
), timed AS (
    SELECT t.*,
           reported + ack_h * interval '1 hour' AS acknowledged,
           reported + triage_h * interval '1 hour' AS triaged,
           reported + fix_h * interval '1 hour' AS fix_ready,
           reported + (fix_h + 0.5 + 2 * d) * interval '1 hour' AS first_unit,
           k * (6 + 40 * e) * interval '1 hour' AS spread
    FROM (SELECT s.*, k * (0.2 + 4 * a ^ 6) AS ack_h,
                 k * (0.2 + 4 * a ^ 6) + k * (1 + 20 * b ^ 6) AS triage_h,
                 k * (0.2 + 4 * a ^ 6) + k * (1 + 20 * b ^ 6) + k * (4 + 30 * c * c) AS fix_h
          FROM scaled s) t
)
SELECT t.*, first_unit + spread AS mitigated,
       CASE WHEN f < 0.65 THEN first_unit + spread + (1 + 8 * f) * interval '1 hour' END
           AS notified,
       CASE WHEN f < 0.65 AND g < 0.35
                 AND first_unit + spread + (5 + 25 * g) * interval '1 day'
                     < CAST(:now AS timestamptz)
            THEN first_unit + spread + (5 + 25 * g) * interval '1 day' END AS public,
       first_unit + spread + interval '1 day' + 9 * interval '1 hour' AS closed,
       h < 0.04 AS rolled_back,
       NULL::bigint AS case_id, NULL::bigint AS service_id
FROM timed t
"""

_CASES = """
WITH made AS (
    INSERT INTO cases (title, summary, state, services, rating, cwe_id, started_at, opened_at,
                       acknowledged_at, triaged_at, mitigated_at, closed_at,
                       acknowledge_due, triage_due, mitigate_due)
    SELECT (CAST(:title_names AS text[]))[h.title_no] || ' (' || h.service || ')',
           'Generated history.', 'closed', ARRAY[h.service], h.rating,
           (CAST(:title_cwes AS int[]))[h.title_no], h.reported, h.reported,
           h.acknowledged, h.triaged, h.mitigated, h.closed,
           h.reported + d.acknowledge * interval '1 hour',
           h.reported + d.triage * interval '1 hour',
           h.reported + d.mitigate * interval '1 hour'
    FROM review_history h
    JOIN (SELECT unnest(CAST(:due_ratings AS text[])) AS rating,
                 unnest(CAST(:due_acknowledge AS float8[])) AS acknowledge,
                 unnest(CAST(:due_triage AS float8[])) AS triage,
                 unnest(CAST(:due_mitigate AS float8[])) AS mitigate) d ON d.rating = h.rating
    ORDER BY h.n
    RETURNING id
)
SELECT count(*) FROM made
"""

_STATEMENTS = (
    # The cases were inserted in the order of n: number them back.
    """
    UPDATE review_history h SET case_id = c.id, service_id = s.id
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM cases
          WHERE id > :before) c, services s
    WHERE c.n = h.n AND s.key = h.service
    """,
    """
    INSERT INTO case_milestones (case_id, milestone, at, actor, source, reason, skipped)
    SELECT case_id, m.milestone, m.at, :actor, m.source, m.reason, m.skipped
    FROM review_history h CROSS JOIN LATERAL (VALUES
        ('reported', h.reported, 'intake', NULL, false),
        ('acknowledged', h.acknowledged, 'hand', NULL, false),
        ('triaged', h.triaged, 'hand', NULL, false),
        ('fix_ready', h.fix_ready, 'remediation', NULL, false),
        ('deployment_started', h.first_unit - interval '10 minutes', 'rollout', NULL, false),
        ('mitigated', h.mitigated, 'rollout', NULL, false),
        ('customers_notified', coalesce(h.notified, h.mitigated), 'notify',
         CASE WHEN h.notified IS NULL THEN 'No customer needed telling.' END,
         h.notified IS NULL),
        ('public', h.public, 'disclosure', NULL, false),
        ('closed', h.closed, 'hand', NULL, false)
    ) AS m(milestone, at, source, reason, skipped)
    WHERE m.at IS NOT NULL
    """,
    """
    INSERT INTO reports (source, state, title, description, service, case_id, received_at)
    SELECT h.source, 'resolved', (CAST(:title_names AS text[]))[h.title_no], 'Generated history.',
           h.service, h.case_id, h.reported
    FROM review_history h
    """,
    """
    INSERT INTO fixes (case_id, service_id, version, created_by, created_at)
    SELECT case_id, service_id, 'h' || n, :actor, fix_ready FROM review_history
    """,
    # A rolled-back first try (one unit, then undone) for a few, then the rollout that finished.
    """
    INSERT INTO rollouts (fix_id, case_id, service_id, target_version, policy_name, policy,
                          backend, health_source, status, started_by, created_at, updated_at,
                          finished_at)
    SELECT f.id, h.case_id, h.service_id, f.version, 'standard', CAST(:policy AS jsonb),
           'simulated',
           'simulated', s.status, :actor, s.at - interval '15 minutes', s.done, s.done
    FROM review_history h
    JOIN fixes f ON f.case_id = h.case_id
    CROSS JOIN LATERAL (VALUES
        ('rolled_back', h.first_unit - interval '3 hours', h.first_unit - interval '1 hour'),
        ('completed', h.first_unit, h.mitigated)
    ) AS s(status, at, done)
    WHERE s.status = 'completed' OR h.rolled_back
    """,
    """
    INSERT INTO rollout_units (rollout_id, unit_id, stage, from_version, status, deployed_at,
                               rolled_back_at)
    SELECT o.id, u.id, 0, u.current_version, 'rolled_back', h.first_unit - interval '2 hours',
           h.first_unit - interval '1 hour'
    FROM review_history h JOIN rollouts o ON o.case_id = h.case_id AND o.status = 'rolled_back'
    JOIN LATERAL (SELECT id, current_version FROM deployment_units
                  WHERE service_id = h.service_id ORDER BY id LIMIT 1) u ON true
    """,
    # The rollout that finished reached every unit of the service, the first at ``first_unit``
    # and the last at ``mitigated`` (the fix on the whole fleet).
    """
    INSERT INTO rollout_units (rollout_id, unit_id, stage, from_version, status, deployed_at)
    SELECT o.id, u.id, 0, u.current_version, 'deployed',
           h.first_unit + h.spread * (u.place - 1) / greatest(u.units - 1, 1)
    FROM review_history h JOIN rollouts o ON o.case_id = h.case_id AND o.status = 'completed'
    JOIN (SELECT id, service_id, current_version,
                 row_number() OVER (PARTITION BY service_id ORDER BY id) AS place,
                 count(*) OVER (PARTITION BY service_id) AS units
          FROM deployment_units) u ON u.service_id = h.service_id
    """,
    # Some cases have a variant (the next case) or a bypass (the one after).
    """
    INSERT INTO case_links (child_id, parent_id, relation, created_by)
    SELECT child.case_id, h.case_id, l.relation, :actor
    FROM review_history h
    CROSS JOIN LATERAL (VALUES ('variant', 1, 17), ('bypass', 2, 41)) AS l(relation, step, every)
    JOIN review_history child ON child.n = h.n + l.step
    WHERE h.n % l.every = 0
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO advisories (case_id, created_by, created_at)
    SELECT case_id, :actor, notified FROM review_history WHERE notified IS NOT NULL AND g < 0.6
    """,
    """
    INSERT INTO advisory_versions (advisory_id, number, title, summary, body, action_required,
                                   exposed_since, status, created_by, created_at, approved_by,
                                   approved_at, sent_by, sent_at)
    SELECT a.id, 1, (CAST(:title_names AS text[]))[h.title_no], 'Generated history.',
           '{{ summary }}', false, h.reported - interval '2 days', 'sent', :actor, h.notified,
           :actor, h.notified, :actor, h.notified
    FROM advisories a JOIN review_history h ON h.case_id = a.case_id
    """,
    """
    INSERT INTO advisory_recipients (advisory_id, tenant_id, resources)
    SELECT a.id, t.id, 1
    FROM advisories a JOIN review_history h ON h.case_id = a.case_id
    CROSS JOIN LATERAL (
        SELECT id FROM tenants WHERE NOT (key = ANY(CAST(:spare AS text[])))
        ORDER BY md5(id::text || h.n::text) LIMIT 4
    ) t
    """,
    """
    INSERT INTO advisory_acknowledgments (version_id, tenant_id, acknowledged_by, acknowledged_at)
    SELECT v.id, r.tenant_id, 'admin@history.example',
           v.sent_at + (1 + 30 * random() * random()) * interval '1 hour'
    FROM advisory_recipients r JOIN advisory_versions v ON v.advisory_id = r.advisory_id
    JOIN advisories a ON a.id = r.advisory_id JOIN review_history h ON h.case_id = a.case_id
    WHERE random() < 0.8
    """,
    # Ratings rise over the year (the team learned from the older complaints).
    """
    INSERT INTO advisory_feedback (advisory_id, tenant_id, rating, comment, given_by, given_at)
    SELECT r.advisory_id, r.tenant_id,
           least(5, greatest(1, round(2.6 + 2.2 * (1 - h.r_age) + 1.4 * (random() - 0.5)))),
           (ARRAY['', '', 'Clear and early.', 'Which of our resources, exactly?',
                  'It took a day to reach the right person.'])[1 + floor(random() * 5)::int],
           'admin@history.example', h.notified + (2 + 40 * random()) * interval '1 hour'
    FROM advisory_recipients r JOIN advisories a ON a.id = r.advisory_id
    JOIN review_history h ON h.case_id = a.case_id
    WHERE random() < 0.7
    """,
)


@dataclass(frozen=True)
class History:
    cases: int
    reviews: int


async def generate(
    session: AsyncSession,
    *,
    cases: int,
    now: datetime,
    settings: Settings,
    owners: Sequence[int],
    reviews: int,
    seed: float = 0.42,
    span_days: int = 280,
    spare_tenants: Sequence[str] = (),
) -> History:
    """Write ``cases`` closed cases reported over ``span_days`` days (ending 45 days before
    ``now``), and publish the reviews of up to ``reviews`` of the important and critical ones
    (their action items owned by ``owners``). No advisory goes to ``spare_tenants`` (the
    demo's customer, whose portal shows only the demo's own). Callers commit."""
    policy = sla_policy(settings.sla_policy_file)
    ratings = [r.value for r in Rating]
    dues = [policy.deadlines(r, now) for r in Rating]

    def hours(index: int, name: str) -> float:
        found = {d.value: at for d, at in dues[index].items()}
        return (found[name] - now).total_seconds() / 3600 if name in found else 1e6

    before = int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM cases")) or 0)
    services = list(await session.scalars(text("SELECT key FROM services ORDER BY key")))
    await session.execute(text("SELECT setseed(:seed)"), {"seed": seed})
    standard = rollouts.policies(settings)["standard"].model_dump_json()
    params = {
        "now": now,
        "actor": ACTOR,
        "before": before,
        "spare": list(spare_tenants),
        "policy": standard,
    }
    await session.execute(
        text(_DRAWS),
        {
            **params,
            "cases": cases,
            "titles": len(TITLES),
            "services": services,
            "span_days": span_days,
        },
    )
    names = {"title_names": [t for t, _ in TITLES], "title_cwes": [c for _, c in TITLES]}
    made = await session.scalar(
        text(_CASES),
        {
            **names,
            "due_ratings": ratings,
            "due_acknowledge": [hours(i, "acknowledge") for i in range(len(ratings))],
            "due_triage": [hours(i, "triage") for i in range(len(ratings))],
            "due_mitigate": [hours(i, "mitigate") for i in range(len(ratings))],
        },
    )
    for statement in _STATEMENTS:
        await session.execute(text(statement), {**params, **names})
    reviewed = await _reviews(session, limit=reviews, owners=owners, settings=settings, now=now)
    await session.execute(text("ANALYZE cases; ANALYZE case_milestones; ANALYZE rollout_units"))
    return History(cases=int(made or 0), reviews=reviewed)


async def _reviews(
    session: AsyncSession, *, limit: int, owners: Sequence[int], settings: Settings, now: datetime
) -> int:
    """Publish the reviews of the first important and critical history cases: each with its
    blast radius (the units of its service), a record generated from the facts, and action
    items, nearly all done."""
    rows = (
        await session.execute(
            text(
                "SELECT case_id, service, n, mitigated, closed FROM review_history "
                "WHERE rating IN ('critical', 'important') ORDER BY n LIMIT :limit"
            ),
            {"limit": limit},
        )
    ).all()
    for row in rows:
        await blast.compute(
            session,
            case_id=row.case_id,
            criteria=blast.BlastCriteria(services=[row.service]),
            actor=ACTOR,
        )
        kept = await record.generate(session, case_id=row.case_id, now=row.closed)
        session.add(
            Review(
                case_id=row.case_id,
                state="published",
                impact="Generated history: the service's tenants were exposed until the fix "
                "reached their units.",
                went_well="The rollout's gates held.",
                went_wrong="Triage waited for the service's owner.",
                authors=[ACTOR],
                started_by=ACTOR,
                started_at=row.mitigated,
                updated_at=row.closed,
                submitted_by=ACTOR,
                submitted_at=row.closed,
                published_by=f"{ACTOR}-approver",
                published_at=row.closed,
                record=kept.model_dump(mode="json"),
                tenant_hours=kept.exposure.tenant_hours,
            )
        )
        await session.flush()
        due: date = (row.closed + timedelta(days=30)).date()
        session.add(
            ActionItem(
                case_id=row.case_id,
                title="Add a regression test for the weakness",
                owner_id=owners[row.n % len(owners)],
                due=due,
                done_at=None if row.n % 23 == 0 else row.closed + timedelta(days=12),
                done_by=None if row.n % 23 == 0 else ACTOR,
                created_by=ACTOR,
            )
        )
    await session.flush()
    return len(rows)
