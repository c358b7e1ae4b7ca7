"""The governed lifecycle at 100k cases: migrating cases that predate milestones (revision 0006
to 0007: milestones from the deadline columns and the event log, the derived state), then on
the migrated database the case list filtered by state, the overdue count, a person's decision
(milestones written, state derived, events, the reports following), and a case with 500
reports mitigated at once."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text

from benchmarks.common import Stopwatch, server, summary_ms, write_results
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db import embedded, migrate
from vulnops.db.database import Database
from vulnops.settings import Settings

CASES = 100_000
REPORTS_OF_ONE_CASE = 500
DECISIONS = 200
QUERIES = 50

# Cases as revision 0006 kept them: a hand-set state and the deadline columns, every sixth state
# in turn; one report each (the original, triaged); a sent advisory for every tenth.
LEGACY = """
INSERT INTO cases (title, state, started_at, acknowledged_at, triaged_at, mitigated_at,
                   closed_at, acknowledge_due, triage_due, mitigate_due, breaches_recorded)
SELECT 'Legacy case ' || g,
       (ARRAY['new', 'triaging', 'remediating', 'mitigated', 'notified', 'closed'])[g % 6 + 1],
       now() - interval '30 days',
       CASE WHEN g % 6 >= 1 THEN now() - interval '29 days' END,
       CASE WHEN g % 6 >= 2 THEN now() - interval '28 days' END,
       CASE WHEN g % 6 >= 3 THEN now() - interval '20 days' END,
       CASE WHEN g % 6 = 5 THEN now() - interval '10 days' END,
       now() - interval '29 days', now() - interval '27 days', now() + interval '10 days', '{}'
FROM generate_series(1, :n) AS g;
"""
LEGACY_REPORTS = """
INSERT INTO reports (source, state, title, description, case_id)
SELECT 'researcher', 'triaged', 'Report ' || id, 'Steps.', id FROM cases;
"""
LEGACY_ADVISORIES = """
WITH a AS (
    INSERT INTO advisories (case_id, created_by)
    SELECT id, 'w@x' FROM cases WHERE id % 10 = 0 AND state IN ('notified', 'closed')
    RETURNING id
)
INSERT INTO advisory_versions (advisory_id, number, title, summary, body, action_required,
                               exposed_since, status, created_by, sent_by, sent_at)
SELECT id, 1, 'v1', 's', 'b', false, now() - interval '40 days', 'sent', 'w@x', 'c@x',
       now() - interval '15 days'
FROM a;
"""
# Two events per case (opened, and its last state change), chained as audit.record does.
LEGACY_EVENTS = """
DO $$
DECLARE
    head_seq bigint; head_hash text; at timestamptz; payload jsonb; new_hash text;
    c record; kind text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    FOR c IN SELECT id, state FROM cases ORDER BY id LOOP
        FOREACH kind IN ARRAY ARRAY['case.opened', 'case.state_changed'] LOOP
            at := clock_timestamp();
            payload := jsonb_build_object('from', 'x', 'to', c.state, 'reason', 'legacy');
            new_hash := audit_event_hash(head_hash, head_seq + 1, 'case:' || c.id, kind,
                                         'responder@x', payload, at);
            INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash,
                                      hash)
            VALUES (head_seq + 1, 'case:' || c.id, kind, 'responder@x', payload, at, head_hash,
                    new_hash);
            head_seq := head_seq + 1; head_hash := new_hash;
        END LOOP;
    END LOOP;
    UPDATE audit_chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
END $$;
"""


async def _legacy(url: str) -> dict[str, Any]:
    await asyncio.to_thread(migrate.upgrade, url, "0006")
    database = Database(url, pool_size=2)
    async with database.session() as session:
        await session.execute(text(LEGACY), {"n": CASES})
        for statement in (LEGACY_REPORTS, LEGACY_ADVISORIES, LEGACY_EVENTS, "ANALYZE"):
            await session.execute(text(statement))
        await session.commit()
    await database.dispose()
    clock = Stopwatch()
    await asyncio.to_thread(migrate.upgrade, url)
    seconds = clock.seconds
    database = Database(url, pool_size=2)
    async with database.session() as session:
        await session.execute(text("ANALYZE"))
        await session.commit()
        rows = await session.scalar(text("SELECT count(*) FROM case_milestones"))
        states: dict[str, int] = dict(
            (await session.execute(text("SELECT state, count(*) FROM cases GROUP BY state"))).all()
        )
    await database.dispose()
    return {
        "cases": CASES,
        "events": 2 * CASES,
        "milestones_written": rows,
        "seconds": round(seconds, 1),
        "derived_states": states,
    }


async def _queries(database: Database) -> dict[str, Any]:
    now = datetime.now(UTC)
    results: dict[str, Any] = {}
    for name, options in (
        ("list_by_state", {"state": CaseState.TRIAGING}),
        ("list_overdue_nearest_first", {"overdue": True, "sort": "due"}),
    ):
        samples = []
        for _ in range(QUERIES):
            async with database.session() as session:
                clock = Stopwatch()
                page = await cases.list_cases(session, now=now, **options)
                samples.append(clock.seconds)
        results[name] = {"total": page.total, **summary_ms(samples)}
    samples = []
    async with database.session() as session:
        for case_id in range(1, QUERIES + 1):
            clock = Stopwatch()
            await milestones.reached(session, case_id=case_id)
            samples.append(clock.seconds)
    results["milestones_of_a_case"] = summary_ms(samples)
    return results


async def _decisions(database: Database, settings: Settings) -> dict[str, Any]:
    """Triage decisions on triaging cases, each its own transaction (as a request is)."""
    async with database.session() as session:
        ids = list(
            await session.scalars(
                text("SELECT id FROM cases WHERE state = 'triaging' ORDER BY id LIMIT :n"),
                {"n": DECISIONS},
            )
        )
    samples = []
    for case_id in ids:
        async with database.session() as session:
            clock = Stopwatch()
            await cases.transition(
                session,
                case_id=case_id,
                target=CaseState.REMEDIATING,
                reason=None,
                actor="bench",
                now=datetime.now(UTC),
                settings=settings,
            )
            await session.commit()
            samples.append(clock.seconds)
    return {"decisions": len(samples), "triage_and_commit": summary_ms(samples)}


async def _many_reports(database: Database, settings: Settings) -> dict[str, Any]:
    """A case with 500 accepted reports is mitigated: every report follows in that transaction."""
    async with database.session() as session:
        case_id = await session.scalar(
            text("SELECT id FROM cases WHERE state = 'remediating' ORDER BY id LIMIT 1")
        )
        await session.execute(
            text(
                "INSERT INTO reports (source, state, title, description, case_id) "
                "SELECT 'researcher', 'accepted', 'Same bug ' || g, 'Steps.', :c "
                "FROM generate_series(1, :n) AS g"
            ),
            {"c": case_id, "n": REPORTS_OF_ONE_CASE},
        )
        await session.commit()
    async with database.session() as session:
        clock = Stopwatch()
        await cases.transition(
            session,
            case_id=int(case_id or 0),
            target=CaseState.MITIGATED,
            reason="a configuration change",
            actor="bench",
            now=datetime.now(UTC),
            settings=settings,
        )
        await session.commit()
        seconds = clock.seconds
        followed = await session.scalar(
            text("SELECT count(*) FROM reports WHERE case_id = :c AND state = 'resolved'"),
            {"c": case_id},
        )
    return {"reports": followed, "mitigate_and_commit_ms": round(seconds * 1000, 1)}


async def main() -> dict[str, Any]:
    with server() as server_url:
        name = f"vulnops_bench_{secrets.token_hex(3)}"
        url = embedded.ensure_database(server_url, name)
        try:
            migration = await _legacy(url)
            database = Database(url, pool_size=4)
            settings = Settings(database_url=url)
            queries = await _queries(database)
            decisions = await _decisions(database, settings)
            follow = await _many_reports(database, settings)
            await database.dispose()
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    results = {
        "migration_0006_to_0007": migration,
        "queries_at_100k_cases": queries,
        "decisions": decisions,
        "a_case_with_500_reports_mitigated": follow,
    }
    write_results("lifecycle", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
