"""The health of the background work, for administrators: workers alive, jobs waiting, jobs
failed, emails not sent. Read from procrastinate's tables and the outbox on their indexes."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.settings import Settings


class FailedTask(BaseModel):
    task: str
    failures: int
    last: datetime


class JobHealth(BaseModel):
    workers_alive: int
    last_heartbeat: datetime | None
    jobs_due: int
    oldest_due_since: datetime | None
    jobs_running: int
    failed_last_day: list[FailedTask]
    emails_waiting: int
    oldest_email_since: datetime | None


_JOBS = """
SELECT
    (SELECT count(*) FROM procrastinate_workers
     WHERE last_heartbeat > CAST(:now AS timestamptz) - make_interval(secs => :stalled))
        AS workers_alive,
    (SELECT max(last_heartbeat) FROM procrastinate_workers) AS last_heartbeat,
    (SELECT count(*) FROM procrastinate_jobs
     WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= :now)) AS jobs_due,
    (SELECT min(greatest(e.at, coalesce(j.scheduled_at, e.at)))
     FROM procrastinate_jobs j JOIN procrastinate_events e
       ON e.job_id = j.id AND e.type = 'deferred'
     WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= :now))
        AS oldest_due_since,
    (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing') AS jobs_running,
    (SELECT count(*) FROM outbound_emails WHERE status = 'queued') AS emails_waiting,
    (SELECT min(created_at) FROM outbound_emails WHERE status = 'queued') AS oldest_email_since
"""
_FAILED = """
SELECT j.task_name AS task, count(*) AS failures, max(e.at) AS last
FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id
WHERE e.type = 'failed' AND e.at > :since
GROUP BY j.task_name ORDER BY max(e.at) DESC
"""


async def job_health(session: AsyncSession, *, settings: Settings, now: datetime) -> JobHealth:
    row = (
        await session.execute(
            text(_JOBS), {"now": now, "stalled": float(settings.worker_stalled_seconds)}
        )
    ).one()
    failed = await session.execute(text(_FAILED), {"since": now - timedelta(days=1)})
    return JobHealth(
        **row._mapping,
        failed_last_day=[FailedTask.model_validate(dict(f._mapping)) for f in failed],
    )
