"""The escalation engine as jobs: one ``escalate`` job per due escalation, deferred in the
transaction that raised the page or ran the step before (``engine``), one page's at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast, get_args

import procrastinate

from vulnops.jobcontext import job_database, job_settings
from vulnops.oncall import contacts, engine, mirrors, rules
from vulnops.oncall.models import Page

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


@blueprint.task(
    name="notify_later",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2),
)
async def notify_later(
    context: procrastinate.JobContext,
    page_id: int,
    step: int,
    loop: int,
    user_id: int,
    rule_id: int,
) -> bool:
    """A person's later contact rule (False: acknowledged by then, or told already)."""
    async with job_database(context).session() as session:
        sent = await engine.notify_later(
            session,
            page_id=page_id,
            step=step,
            loop=loop,
            user_id=user_id,
            rule_id=rule_id,
            settings=job_settings(context),
        )
        await session.commit()
    return sent


@blueprint.task(
    name="chat_person",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=5),
)
async def chat_person(context: procrastinate.JobContext, notification_id: int) -> int:
    """Post one notification to its person's chat webhook (0: nothing to post any more)."""
    settings = job_settings(context)
    async with job_database(context).session() as session:
        found = await engine.chat_message(
            session, notification_id=notification_id, settings=settings
        )
    if found is None:
        return 0
    address, text = found
    return await contacts.post_chat(address, text, settings=settings)


@blueprint.task(
    name="mirror",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=5),
)
async def mirror(context: procrastinate.JobContext, page_id: int, event: str, target: str) -> int:
    """Post one page event to one of the tools pages are mirrored to."""
    async with job_database(context).session() as session:
        page = await session.get(Page, page_id)
    if page is None or event not in get_args(mirrors.Event):
        return 0
    return await mirrors.send(
        page, cast("mirrors.Event", event), target, settings=job_settings(context)
    )


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="page_deadlines", queueing_lock="page_deadlines", pass_context=True)
async def page_deadlines(context: procrastinate.JobContext, timestamp: int) -> int:
    """Page for the deadlines past their warning point (once per case and milestone)."""
    async with job_database(context).session() as session:
        raised = await rules.page_deadlines(
            session, now=datetime.now(UTC), settings=job_settings(context)
        )
        await session.commit()
    return raised


@blueprint.periodic(cron="* * * * *")
@blueprint.task(
    name="page_unanswered_questions", queueing_lock="page_unanswered_questions", pass_context=True
)
async def page_unanswered_questions(context: procrastinate.JobContext, timestamp: int) -> int:
    """Page for the customers' questions past their answer time (once per question)."""
    async with job_database(context).session() as session:
        raised = await rules.page_unanswered_questions(
            session, now=datetime.now(UTC), settings=job_settings(context)
        )
        await session.commit()
    return raised
