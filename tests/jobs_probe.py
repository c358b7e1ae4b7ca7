"""A task for the job tests: it records each attempt, may hang on its first, then has an effect.

Loaded into worker processes with ``vulnops worker --import jobs_probe``.
"""

from __future__ import annotations

import asyncio

import procrastinate
from sqlalchemy import text

from vulnops import jobs
from vulnops.jobcontext import job_database

PROBE_TABLES = """
CREATE TABLE IF NOT EXISTS job_probe_attempts (
    id bigserial PRIMARY KEY, key text NOT NULL, worker text, at timestamptz DEFAULT now()
);
CREATE TABLE IF NOT EXISTS job_probe_effects (key text PRIMARY KEY, at timestamptz DEFAULT now());
"""

blueprint = procrastinate.Blueprint()


@blueprint.task(name="probe", pass_context=True)
async def probe(context: procrastinate.JobContext, key: str, hang_first: bool = False) -> None:
    async with job_database(context).session() as session:
        earlier = await session.scalar(
            text("SELECT count(*) FROM job_probe_attempts WHERE key = :key"), {"key": key}
        )
        await session.execute(
            text("INSERT INTO job_probe_attempts (key, worker) VALUES (:key, :worker)"),
            {"key": key, "worker": context.worker_name},
        )
        await session.commit()
    if hang_first and earlier == 0:
        await asyncio.sleep(3600)
    async with job_database(context).session() as session:
        await session.execute(
            text("INSERT INTO job_probe_effects (key) VALUES (:key) ON CONFLICT DO NOTHING"),
            {"key": key},
        )
        await session.commit()


jobs.app.add_tasks_from(blueprint, namespace="probe")
