"""Each role's work queue at 100,000 reports and 20,000 cases (the intake benchmark's data set):
a responder who owns 2,000 of the cases, 10,000 reports whose reporter wrote last, 200 approvals
waiting, a researcher who wrote all 100,000 reports, a customer with 2,000 advisories (half of
them acknowledged), and the administrator's view of everything. Target: the whole home page's
queries under 100 ms at p95 for every role."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import text

from benchmarks.common import fresh_database, server, summary_ms, write_results
from benchmarks.intake_data import CASES, REPORTS, fill
from vulnops.auth import service as users
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.workqueue.context import Context
from vulnops.workqueue.sections import sections_for
from vulnops.workqueue.service import BUILDERS, work_queue

RUNS = 30
TARGET_MS = 100

# The responder owns every tenth case; every tenth report's reporter wrote after the team; 200
# expedited rollouts wait for approval; 2,000 cases have an advisory sent to one tenant.
SHAPE = """
UPDATE cases SET owner_id = (SELECT id FROM users WHERE email = 'bench-responder@example.com')
WHERE id % 10 = 0;
UPDATE reports SET last_staff_message_at = received_at + interval '1 hour',
                   last_reporter_message_at = received_at + interval '2 hours'
WHERE id % 10 = 1 AND state <> 'closed';
INSERT INTO approvals (step, subject, summary, authors, requested_by)
SELECT 'expedited_rollout', 'rollout:' || g, 'Expedited rollout ' || g,
       ARRAY['starter@example.com'], 'starter@example.com'
FROM generate_series(1, 200) AS g;
INSERT INTO tenants (key, name) VALUES ('bench-tenant', 'Bench Tenant');
INSERT INTO advisories (case_id, created_by) SELECT id, 'c@x' FROM cases WHERE id <= 2000;
INSERT INTO advisory_versions (advisory_id, number, title, summary, body, action_required,
                               exposed_since, status, created_by, sent_by, sent_at)
SELECT id, 1, 'Advisory ' || id, 's', 'b', id % 3 = 0, now() - interval '40 days', 'sent', 'c@x',
       'c@x', now() - (id % 30) * interval '1 day'
FROM advisories;
INSERT INTO advisory_recipients (advisory_id, tenant_id, resources)
SELECT a.id, t.id, 1 FROM advisories a, tenants t WHERE t.key = 'bench-tenant';
INSERT INTO advisory_acknowledgments (version_id, tenant_id, acknowledged_by)
SELECT v.id, t.id, 'cust@x' FROM advisory_versions v, tenants t
WHERE t.key = 'bench-tenant' AND v.advisory_id % 2 = 0;
ANALYZE
"""


def _vacuum(conninfo: str) -> None:
    """As autovacuum would have by then: the visibility map lets counts read only indexes."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


async def _people(database: Database) -> dict[str, User]:
    async with database.session() as session:
        for statement in SHAPE.split(";\n"):
            await session.execute(text(statement))
        admin = await users.create_user(
            session,
            email="bench-admin@example.com",
            password="bench password 3",  # noqa: S106
            role=Role.ADMIN,
            actor="bench",
        )
        customer = await users.create_user(
            session,
            email="bench-customer@example.com",
            password="bench password 4",  # noqa: S106
            role=Role.CUSTOMER,
            actor="bench",
            tenant_key="bench-tenant",
        )
        await session.commit()
        people = {"admin": admin, "customer": customer}
        for role in ("responder", "researcher"):
            people[role] = await users.get_user_by_email(session, email=f"bench-{role}@example.com")
    return people


async def _timed(database: Database, settings: Settings, user: User) -> dict[str, Any]:
    """The whole queue's time, and each section's (the median) with its count."""
    principal = users.principal_of(user, via="session")
    samples = []
    sections: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for _ in range(RUNS):
        async with database.session() as session:
            started = time.perf_counter()
            queue = await work_queue(
                session, principal=principal, settings=settings, now=datetime.now(UTC)
            )
            samples.append(time.perf_counter() - started)
            counts = {section.key.value: section.count for section in queue.sections}
            ctx = Context(
                session=session, principal=principal, settings=settings, now=datetime.now(UTC)
            )
            for key in sections_for(principal.role):
                began = time.perf_counter()
                await BUILDERS[key](ctx)
                sections.setdefault(key.value, []).append(time.perf_counter() - began)
    return {
        **summary_ms(samples),
        "sections": {
            key: {"count": counts[key], "p50_ms": summary_ms(times)["p50_ms"]}
            for key, times in sections.items()
        },
    }


async def main() -> dict[str, Any]:
    with server() as url:
        async with fresh_database(url, pool_size=4) as database:
            await fill(database)
            people = await _people(database)
            await asyncio.to_thread(_vacuum, database.conninfo)
            settings = Settings(database_url=database.conninfo)
            roles = {role: await _timed(database, settings, user) for role, user in people.items()}
    results = {
        "data": {"reports": REPORTS, "cases": CASES, "runs_per_role": RUNS},
        "home_page_queries": roles,
        "targets": {
            f"every role's queue p95 < {TARGET_MS} ms": all(
                r["p95_ms"] < TARGET_MS for r in roles.values()
            )
        },
    }
    write_results("workqueue", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
