"""The variants' jobs: a hunt's run (deferred with the hunt), and the guards of closed classes —
after each new SBOM (every minute, from their cursor) and over the code nightly."""

from __future__ import annotations

import procrastinate

from vulnops.jobcontext import job_database, job_settings
from vulnops.variants import guards, running

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="run_hunt",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=5),
)
async def run_hunt(context: procrastinate.JobContext, hunt_id: int) -> str:
    return await running.run(job_database(context), hunt_id=hunt_id, settings=job_settings(context))


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="guard_new_sboms", queueing_lock="guard_new_sboms", pass_context=True)
async def guard_new_sboms(context: procrastinate.JobContext, timestamp: int) -> int:
    """Run the component guards over the SBOMs that arrived since each last looked."""
    return await guards.run_all(
        job_database(context), settings=job_settings(context), nightly=False
    )


@blueprint.periodic(cron="17 3 * * *")
@blueprint.task(name="guard_nightly", queueing_lock="guard_nightly", pass_context=True)
async def guard_nightly(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every guard, code rules included, over everything."""
    return await guards.run_all(job_database(context), settings=job_settings(context), nightly=True)
