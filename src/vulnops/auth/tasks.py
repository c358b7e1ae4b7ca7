"""Background jobs of the auth domain."""

from __future__ import annotations

import procrastinate

from vulnops.auth import ratelimit
from vulnops.jobcontext import job_database, job_settings

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(queueing_lock="prune_login_failures", pass_context=True)
async def prune_login_failures(context: procrastinate.JobContext, timestamp: int) -> int:
    """Forget failed sign-ins and self-registrations older than their rate-limit windows."""
    settings = job_settings(context)
    async with job_database(context).session() as session:
        removed = await ratelimit.prune(
            session, window_seconds=settings.login_failure_window_seconds
        )
        await session.commit()
    return removed
