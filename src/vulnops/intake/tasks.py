"""Background jobs of the intake domain: what a submission leaves for later.

A submission answers with its tracking number at once; the acknowledgment email (rendering it
and recording it in the outbox) is a job enqueued in the submission's transaction, so it exists
exactly when the report does, and waits for a worker rather than holding up the answer.
"""

from __future__ import annotations

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.intake import notices
from vulnops.intake.models import Report
from vulnops.jobcontext import bound, job_database, job_settings

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="acknowledge",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=5),
)
async def acknowledge(context: procrastinate.JobContext, report_id: int) -> None:
    async with job_database(context).session() as session:
        report = await session.get(Report, report_id)
        if report is not None:
            await notices.acknowledge_receipt(
                session, settings=job_settings(context), report=report
            )
            await session.commit()


async def acknowledge_later(session: AsyncSession, *, report_id: int) -> None:
    """Enqueue the report's acknowledgment in the session's transaction."""
    connection = await raw_connection(session)
    await bound(acknowledge).configure(connection=connection).defer_async(report_id=report_id)
