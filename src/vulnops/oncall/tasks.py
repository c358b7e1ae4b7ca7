"""The escalation engine as jobs: one ``escalate`` job per due escalation, deferred in the
transaction that raised the page or ran the step before (``engine``), one page's at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate

from vulnops.jobcontext import job_database, job_settings
from vulnops.oncall import engine

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="escalate",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2),
)
async def escalate(context: procrastinate.JobContext, page_id: int, step: int, loop: int) -> bool:
    """Run one escalation (False: it was not due any more — acknowledged, or run already)."""
    async with job_database(context).session() as session:
        outcome = await engine.escalate(
            session,
            page_id=page_id,
            step=step,
            loop=loop,
            now=datetime.now(UTC),
            settings=job_settings(context),
        )
        await session.commit()
    return outcome.ran
