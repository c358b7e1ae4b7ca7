"""Delivery jobs: ``deliver`` works through one channel's due deliveries; ``kick_deliveries``
(every 10 s) queues them where work is due, schedules reminders and forgets old rate windows —
so a lost job or a dead worker delays deliveries, never loses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound, job_database, job_settings
from vulnops.notify import deliveries, sending
from vulnops.settings import Settings

blueprint = procrastinate.Blueprint()
DELIVER_TASK = "notify:deliver"


@blueprint.task(name="deliver", pass_context=True)
async def deliver(context: procrastinate.JobContext, channel: str) -> int:
    return await sending.run(job_database(context), job_settings(context), channel)


async def queue_delivery_jobs(session: AsyncSession, *, settings: Settings, channel: str) -> int:
    """Bring the channel's queued or running delivery jobs up to ``notify_parallel_jobs``, in
    the caller's transaction."""
    waiting = await session.scalar(
        text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task "
            "AND status IN ('todo', 'doing') AND args->>'channel' = :channel"
        ),
        {"task": DELIVER_TASK, "channel": channel},
    )
    missing = max(settings.notify_parallel_jobs - int(waiting or 0), 0)
    connection = await raw_connection(session)
    for _ in range(missing):
        await bound(deliver).configure(connection=connection).defer_async(channel=channel)
    return missing


@blueprint.periodic(cron="* * * * * */10")
@blueprint.task(name="kick_deliveries", queueing_lock="kick_deliveries", pass_context=True)
async def kick_deliveries(context: procrastinate.JobContext, timestamp: int) -> int:
    settings = job_settings(context)
    now = datetime.now(UTC)
    async with job_database(context).session() as session:
        await deliveries.schedule_reminders(
            session,
            now=now,
            every=timedelta(hours=settings.notify_reminder_hours),
            most=settings.notify_max_reminders,
        )
        await deliveries.forget_old_windows(session, before=now - timedelta(hours=1))
        queued = 0
        for channel in await deliveries.due_channels(session):
            queued += await queue_delivery_jobs(session, settings=settings, channel=channel)
        await session.commit()
    return queued
