"""Background jobs of disclosure: each minute, the embargoes that ended become ``public`` on
their cases, and the CVEs asked to be published when their embargo ends are published."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate

from vulnops.disclosure import disclosing, publishing
from vulnops.jobcontext import job_database, job_settings

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="embargoes", queueing_lock="disclosure-embargoes", pass_context=True)
async def embargoes(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
    database, settings = job_database(context), job_settings(context)
    now = datetime.now(UTC)
    async with database.session() as session:
        ended = await disclosing.embargoes_ended(session, settings=settings, now=now)
        await session.commit()
        due = await publishing.due_publications(session, now=now)
    outcomes: dict[str, int] = {"public": ended}
    for case_id in due:
        async with database.session() as session:
            outcome = await publishing.publish_scheduled(
                session, case_id=case_id, settings=settings, now=now
            )
            await session.commit()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
