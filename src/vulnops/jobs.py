"""Background jobs: procrastinate on the application's PostgreSQL.

Domains define their tasks on a ``procrastinate.Blueprint`` in their ``tasks.py``; this module adds
them to the one application. Domain code enqueues a job on the connection of its own transaction
(``task.configure(connection=await raw_connection(session)).defer_async(...)``) so that the job
exists exactly when the change that caused it committed.

A worker that dies (SIGKILL, lost machine) stops sending heartbeats; ``retry_stalled_jobs`` on any
other worker then puts its running jobs back in the queue, so a committed job always runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import procrastinate
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

from vulnops.auth.tasks import blueprint as auth_tasks
from vulnops.bounty.tasks import blueprint as bounty_tasks
from vulnops.cases.tasks import blueprint as case_tasks
from vulnops.db.database import Database
from vulnops.disclosure.tasks import blueprint as disclosure_tasks
from vulnops.intake.tasks import blueprint as intake_tasks
from vulnops.jobcontext import job_settings
from vulnops.mail.tasks import blueprint as mail_tasks
from vulnops.notify.tasks import blueprint as notify_tasks
from vulnops.oncall.tasks import blueprint as oncall_tasks
from vulnops.review.tasks import blueprint as review_tasks
from vulnops.rollout.tasks import blueprint as rollout_tasks
from vulnops.settings import Settings
from vulnops.variants.tasks import blueprint as variants_tasks

log = logging.getLogger(__name__)

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
app.add_tasks_from(auth_tasks, namespace="auth")
app.add_tasks_from(bounty_tasks, namespace="bounty")
app.add_tasks_from(case_tasks, namespace="cases")
app.add_tasks_from(disclosure_tasks, namespace="disclosure")
app.add_tasks_from(intake_tasks, namespace="intake")
app.add_tasks_from(mail_tasks, namespace="mail")
app.add_tasks_from(notify_tasks, namespace="notify")
app.add_tasks_from(oncall_tasks, namespace="oncall")
app.add_tasks_from(review_tasks, namespace="review")
app.add_tasks_from(rollout_tasks, namespace="rollout")
app.add_tasks_from(variants_tasks, namespace="variants")


async def retry_jobs_of_dead_workers(opened: procrastinate.App, settings: Settings) -> int:
    """Requeue the jobs of workers that stopped sending heartbeats."""
    stalled = list(
        await opened.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=settings.worker_stalled_seconds
        )
    )
    for job in stalled:
        log.warning("retrying job %s (%s) of a dead worker", job.id, job.task_name)
        try:
            await opened.job_manager.retry_job(job)
        except UniqueViolation:
            # The same work is queued already (a job with its queueing lock waits): end the
            # dead one, so that its lock no longer holds the queued one back.
            await opened.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
    return len(stalled)


@app.periodic(cron="* * * * * */10")
@app.task(queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> int:
    return await retry_jobs_of_dead_workers(context.app, job_settings(context))


def worker_connections(concurrency: int) -> int:
    """The connections a worker running ``concurrency`` jobs at once opens for its queue: one
    listens, the others take and finish jobs (the jobs use the application's pool)."""
    return concurrency + 2


@asynccontextmanager
async def connected(conninfo: str, *, max_size: int = 4) -> AsyncIterator[procrastinate.App]:
    """The application with an open connection pool to ``conninfo``."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=max_size)
    with app.replace_connector(connector):
        async with app.open_async():
            yield app


async def run_worker(
    *,
    settings: Settings,
    database: Database,
    name: str | None = None,
    concurrency: int | None = None,
    queues: list[str] | None = None,
    install_signal_handlers: bool = False,
) -> None:
    """Run one worker until cancelled (or until SIGINT/SIGTERM when it installs handlers)."""
    concurrency = concurrency or settings.worker_concurrency
    options: dict[str, Any] = {"queues": queues} if queues else {}
    async with connected(database.conninfo, max_size=worker_connections(concurrency)) as opened:
        # A worker that starts (often: one restarted after a crash) recovers the jobs of dead
        # workers at once, rather than at the next periodic pass.
        await retry_jobs_of_dead_workers(opened, settings)
        await opened.run_worker_async(
            **options,
            name=name or "vulnops-worker",
            concurrency=concurrency,
            additional_context={"db": database, "settings": settings},
            update_heartbeat_interval=settings.worker_heartbeat_seconds,
            # Scheduled jobs (a rollout's next look) are found by polling.
            fetch_job_polling_interval=1.0,
            stalled_worker_timeout=settings.worker_stalled_seconds,
            install_signal_handlers=install_signal_handlers,
            delete_jobs="successful",
        )
