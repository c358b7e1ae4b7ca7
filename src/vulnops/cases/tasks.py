"""Background jobs of the cases domain."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate

from vulnops.cases import deadlines
from vulnops.jobcontext import job_database

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queueing_lock="record_sla_breaches", pass_context=True)
async def record_sla_breaches(context: procrastinate.JobContext, timestamp: int) -> int:
    """Record every deadline that passed unmet as a case event, once."""
    async with job_database(context).session() as session:
        recorded = await deadlines.record_sla_breaches(session, now=datetime.now(UTC))
        await session.commit()
    return recorded
