"""The controller as jobs: one ``tick`` job per active rollout at a time, each scheduling the
next, and a sweep every minute that wakes any active rollout whose chain of ticks broke.

``lock`` makes ticks of one rollout run one after the other, however many workers there are;
``queueing_lock`` keeps at most one waiting. A worker killed mid-tick stops sending heartbeats
and its job is retried elsewhere (``retry_stalled_jobs``), which is safe: a tick starts from the
state as recorded.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound, job_database, job_settings
from vulnops.rollout.controller import Controller

blueprint = procrastinate.Blueprint()
log = logging.getLogger(__name__)


def _lock(rollout_id: int) -> str:
    return f"rollout-{rollout_id}"


@blueprint.task(name="tick", pass_context=True)
async def tick(context: procrastinate.JobContext, rollout_id: int) -> float | None:
    controller = Controller(database=job_database(context), settings=job_settings(context))
    delay = await controller.tick(rollout_id)
    if delay is not None:
        with contextlib.suppress(AlreadyEnqueued):  # an operation woke it meanwhile
            await tick.configure(
                lock=_lock(rollout_id),
                queueing_lock=_lock(rollout_id),
                schedule_at=datetime.now(UTC) + timedelta(seconds=delay),
            ).defer_async(rollout_id=rollout_id)
    return delay


async def wake(session: AsyncSession, rollout_id: int) -> None:
    """Have the rollout looked at now, once the caller's transaction commits."""
    with contextlib.suppress(AlreadyEnqueued):  # a look is already waiting
        await _defer_in_savepoint(session, rollout_id)


async def _defer_in_savepoint(session: AsyncSession, rollout_id: int) -> None:
    """Defer a tick in the session's transaction, inside a savepoint: a refused job (one with
    its queueing lock is waiting already) must not abort the caller's transaction."""
    async with session.begin_nested():
        # Asking for the connection emits the SAVEPOINT (SQLAlchemy emits it lazily, and the
        # job is inserted on the raw connection, which SQLAlchemy does not see).
        connection = await raw_connection(session)
        await (
            bound(tick)
            .configure(
                connection=connection, lock=_lock(rollout_id), queueing_lock=_lock(rollout_id)
            )
            .defer_async(rollout_id=rollout_id)
        )


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="sweep", queueing_lock="rollout-sweep", pass_context=True)
async def sweep(context: procrastinate.JobContext, timestamp: int) -> int:
    """Wake every rollout that should be moving."""
    woken = 0
    async with job_database(context).session() as session:
        ids = list(
            await session.scalars(
                text(
                    "SELECT id FROM rollouts WHERE status IN ('running', 'halted', 'rolling_back')"
                )
            )
        )
        for rollout_id in ids:
            try:
                await _defer_in_savepoint(session, rollout_id)
            except AlreadyEnqueued:
                continue
            woken += 1
        await session.commit()
    if woken:
        log.info("woke %d rollout(s) at %s", woken, datetime.now(UTC).isoformat())
    return woken
