"""Program metrics at scale: 20,000 cases (a generated history with their milestones, reports,
rollouts over every unit of their service, variants, advisories and feedback, 200 published
reviews) beside 10 million events in the log; the first derivation of every case's points
(as after the migration); the program dashboard, its JSON and a review page, timed through the
app as a responder, the dashboard also with a hundred cases changed before each reading.

The 10 million events are written in one ``INSERT … SELECT`` with placeholder hashes (the
metrics never read the log, and chaining them one by one would take most of an hour): the
chain of this throw-away database does not verify, which this benchmark does not need.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.common import (
    Stopwatch,
    fresh_database,
    responder_token,
    server,
    summary_ms,
    write_results,
)
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.fleet import generator, importer, tenant_import
from vulnops.review import case_points, history
from vulnops.settings import Settings
from vulnops.web.app import create_app

CASES = 20_000
EVENTS = 10_000_000
REVIEWS = 200
SAMPLES = 40
SEED = 11
# Cases whose facts change between two readings of the dashboard (a busy minute's worth).
CHANGED = 100

EVENT_ROWS = """
INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash)
SELECT :start + g, 'case:' || (:first + g % :cases),
       (ARRAY['case.updated', 'case.milestone_recorded', 'rollout.units_deployed',
              'advisory.delivered', 'report.message'])[1 + g % 5],
       'bench', jsonb_build_object('n', g), now() - (g % 31536000) * interval '1 second',
       '', md5(g::text)
FROM generate_series(1, :events) AS g
"""


async def _chunks(pieces: Iterator[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece.encode()


async def _load(settings: Settings, database: Any) -> dict[str, Any]:
    watch = Stopwatch()
    async with database.session() as session:
        topology = generator.topology(SEED, "small")
        await importer.import_bundle(
            session,
            actor="bench",
            topology=(json.dumps(topology), "topology"),
            tenants=(
                _chunks(
                    generator.csv_text(
                        generator.tenant_rows(SEED, "small"), tenant_import.TENANT_COLUMNS
                    )
                ),
                "tenants.csv",
            ),
            resources=(
                _chunks(
                    generator.csv_text(
                        generator.resource_rows(SEED, "small", topology),
                        importer.RESOURCE_COLUMNS,
                    )
                ),
                "resources.csv",
            ),
        )
        owner = await users.create_user(
            session,
            email="owner@example.com",
            password="a long bench password 42",  # noqa: S106 - a throwaway database
            role=Role.ENGINEER,
            actor="bench",
        )
        made = await history.generate(
            session,
            cases=CASES,
            now=datetime.now(UTC),
            settings=settings,
            owners=[owner.id],
            reviews=REVIEWS,
        )
        await session.commit()
    cases_seconds = watch.seconds
    watch = Stopwatch()
    async with database.session() as session:
        start = int(await session.scalar(text("SELECT coalesce(max(seq), 0) FROM audit_events")))
        first = int(await session.scalar(text("SELECT min(id) FROM cases")))
        await session.execute(
            text(EVENT_ROWS), {"start": start, "first": first, "cases": CASES, "events": EVENTS}
        )
        await session.execute(
            text("UPDATE audit_chain_head SET seq = :seq WHERE id = 1"), {"seq": start + EVENTS}
        )
        await session.commit()
    watch_events = watch.seconds
    watch = Stopwatch()
    async with database.session() as session:
        derived = await case_points.refresh(session)
        await session.commit()
    points_seconds = watch.seconds
    async with database.session() as session:
        await session.execute(text("ANALYZE"))
        counts = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM cases) AS cases, "
                    "(SELECT count(*) FROM case_milestones) AS milestones, "
                    "(SELECT count(*) FROM rollout_units) AS rollout_units, "
                    "(SELECT count(*) FROM advisory_feedback) AS feedback, "
                    "(SELECT count(*) FROM audit_events) AS events"
                )
            )
        ).one()
        await session.commit()
    return {
        **counts._asdict(),
        "reviews": made.reviews,
        "history_seconds": round(cases_seconds, 1),
        "events_seconds": round(watch_events, 1),
        "points_derived": derived,
        "points_seconds": round(points_seconds, 2),
    }


async def _timed(
    client: httpx.AsyncClient,
    path: str,
    expect: str,
    *,
    headers: dict[str, str],
    database: Database,
    changed: int = 0,
) -> dict[str, float]:
    """``SAMPLES`` requests of the page; before each, ``changed`` cases marked stale (their
    facts changed since the last reading), which the reading then derives again."""
    samples = []
    for number in range(SAMPLES):
        if changed:
            async with database.session() as session:
                await session.execute(
                    text(
                        "INSERT INTO case_points_stale (case_id) "
                        "SELECT id FROM cases ORDER BY id OFFSET :offset LIMIT :changed"
                    ),
                    {"offset": number * changed, "changed": changed},
                )
                await session.commit()
        watch = Stopwatch()
        answer = await client.get(path, headers=headers)
        samples.append(watch.seconds)
        assert answer.status_code == 200, answer.text[:300]
        assert expect in answer.text, answer.text[:300]
    return summary_ms(samples)


async def main() -> dict[str, Any]:
    with server() as url, tempfile.TemporaryDirectory(prefix="vulnops-data-") as data:
        async with fresh_database(url) as database:
            settings = Settings(database_url=database.conninfo, data_dir=Path(data))
            loaded = await _load(settings, database)
            async with database.session() as session:
                token = await responder_token(session)
                reviewed = int(await session.scalar(text("SELECT min(case_id) FROM reviews")) or 0)
                await session.commit()
            app = create_app(settings, database=database)
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                timed = functools.partial(_timed, client, headers=headers, database=database)
                results = {
                    **loaded,
                    "dashboard_page": await timed("/metrics", "<svg"),
                    "dashboard_after_changes": await timed("/metrics", "<svg", changed=CHANGED),
                    "dashboard_filtered": await timed(
                        "/metrics?rating=important&source=researcher", "<svg"
                    ),
                    "metrics_api": await timed("/api/metrics", "whole_fleet"),
                    "review_page": await timed(f"/cases/{reviewed}/review", "tenant-hours"),
                }
    write_results("review", results)
    return results
