"""The reviews' jobs: the metrics' read model refreshed every minute, so the marks of the
facts' changes never pile up between two readers of the dashboard."""

from __future__ import annotations

import procrastinate

from vulnops.jobcontext import job_database
from vulnops.review import case_points

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="refresh_case_points", queueing_lock="refresh_case_points", pass_context=True)
async def refresh_case_points(context: procrastinate.JobContext, timestamp: int) -> int:
    """Derive again the points of every case whose facts changed."""
    async with job_database(context).session() as session:
        derived = await case_points.refresh(session)
        await session.commit()
    return derived
