"""The administrator's section: is the background work being done?"""

from __future__ import annotations

from vulnops.durations import relative
from vulnops.workqueue.context import Context, section
from vulnops.workqueue.health import job_health
from vulnops.workqueue.schemas import QueueItem, QueueSection
from vulnops.workqueue.sections import SectionKey


async def jobs(ctx: Context) -> QueueSection:
    health = await job_health(ctx.session, settings=ctx.settings, now=ctx.now)
    items: list[QueueItem] = []
    problems = 0
    heartbeat = (
        f"last heartbeat {relative(health.last_heartbeat, ctx.now)}"
        if health.last_heartbeat
        else "no worker has ever started"
    )
    problems += health.workers_alive == 0
    items.append(
        QueueItem(
            label="Workers",
            title=f"{health.workers_alive} alive",
            detail=heartbeat
            + ("" if health.workers_alive else "; start one with `vulnops worker`"),
            tone="bad" if health.workers_alive == 0 else "good",
        )
    )
    waited = (
        f", the oldest due {relative(health.oldest_due_since, ctx.now)}"
        if health.oldest_due_since
        else ""
    )
    slow = (
        health.oldest_due_since is not None
        and (ctx.now - health.oldest_due_since).total_seconds() > 60
    )
    problems += slow
    items.append(
        QueueItem(
            label="Jobs",
            title=f"{health.jobs_due} due, {health.jobs_running} running",
            detail=f"{health.jobs_due} waiting for a worker{waited}",
            tone="bad" if slow else "good",
        )
    )
    for failed in health.failed_last_day:
        problems += 1
        items.append(
            QueueItem(
                label="Failed job",
                title=failed.task,
                detail=f"failed {failed.failures} times in the last day, last "
                f"{relative(failed.last, ctx.now)}",
                tone="bad",
            )
        )
    if health.emails_waiting:
        old = health.oldest_email_since
        stuck = old is not None and (ctx.now - old).total_seconds() > 600
        problems += stuck
        items.append(
            QueueItem(
                label="Emails",
                title=f"{health.emails_waiting} not sent yet",
                detail=f"the oldest queued {relative(old, ctx.now)}" if old else "queued",
                tone="bad" if stuck else "",
            )
        )
    return section(
        SectionKey.JOBS,
        "Workers and jobs",
        problems,
        items,
        more=None,
        empty="",
    )
