"""The bounty's jobs: the payout sender, and the reputation scorer (every minute, through the
event log to its end: :mod:`vulnops.bounty.reputation`).

The payout sender: one ``send_payout`` job per payout, deferred in the transaction
that asked for it (:func:`vulnops.bounty.payouts.ask`), so a committed payout is always sent.

A worker killed after posting and before recording the answer leaves the job running; another
worker's ``retry_stalled_jobs`` puts it back, and it posts again with the same ``webhook-id``
(the payout's key): the payment system answers with the payment it made, and the ledger records
that answer once (its settlement is idempotent by key).
"""

from __future__ import annotations

import procrastinate

from vulnops.bounty import backends, payouts, reputation
from vulnops.errors import Conflict
from vulnops.jobcontext import job_database, job_settings

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="send_payout",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=5),
)
async def send_payout(context: procrastinate.JobContext, payout_key: str) -> str:
    """Send the payout and record the answer (``answered`` when it had one already)."""
    backend = backends.configured(job_settings(context))
    async with job_database(context).session() as session:
        try:
            answer = await payouts.send(
                session, payout_key=payout_key, backend=backend, actor="vulnops"
            )
        except Conflict:
            return "answered"
        await session.commit()
    return answer.status


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="score_reputation", queueing_lock="score_reputation", pass_context=True)
async def score_reputation(context: procrastinate.JobContext, timestamp: int) -> int:
    """Score the event log up to its end, a batch per transaction; the points written."""
    written = 0
    while True:
        async with job_database(context).session() as session:
            scored = await reputation.score(session)
            await session.commit()
        written += scored.points
        if not scored.events:
            return written
