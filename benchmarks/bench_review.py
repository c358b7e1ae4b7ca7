"""Program metrics at scale: 20,000 cases (a generated history with their milestones, reports,
rollouts over every unit of their service, variants, advisories and feedback, 200 published
reviews) beside 10 million events in the log; the program dashboard, its JSON and a review
page, timed through the app as a responder.

The 10 million events are written in one ``INSERT … SELECT`` with placeholder hashes (the
metrics never read the log, and chaining them one by one would take most of an hour): the
chain of this throw-away database does not verify, which this benchmark does not need.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.fleet import generator, importer
from vulnops.review import history
from vulnops.settings import Settings
from vulnops.web.app import create_app

CASES = 20_000
EVENTS = 10_000_000
REVIEWS = 200
SAMPLES = 40
SEED = 11

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
                        generator.tenant_rows(SEED, "small"), importer.TENANT_COLUMNS
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
        "events_seconds": round(watch.seconds, 1),
    }


async def _timed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], expect: str
) -> dict[str, float]:
    samples = []
    for _ in range(SAMPLES):
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
                user = await users.create_user(
                    session,
                    email="bench@example.com",
                    password="a long bench password 42",  # noqa: S106 - a throwaway database
                    role=Role.RESPONDER,
                    actor="bench",
                )
                token = await users.create_token(
                    session,
                    user_id=user.id,
                    name="bench",
                    expires_in_days=1,
                    max_days=1,
                    actor="bench",
                    now=datetime.now(UTC),
                )
                reviewed = int(await session.scalar(text("SELECT min(case_id) FROM reviews")) or 0)
                await session.commit()
            app = create_app(settings, database=database)
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {token[1]}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                results = {
                    **loaded,
                    "dashboard_page": await _timed(client, "/metrics", headers, "<svg"),
                    "dashboard_filtered": await _timed(
                        client, "/metrics?rating=important&source=researcher", headers, "<svg"
                    ),
                    "metrics_api": await _timed(client, "/api/metrics", headers, "whole_fleet"),
                    "review_page": await _timed(
                        client, f"/cases/{reviewed}/review", headers, "tenant-hours"
                    ),
                }
    write_results("review", results)
    return results
