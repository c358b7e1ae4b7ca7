"""A person's work queue: for each section their role shows, how many there are (counted in
SQL) and the first few, each with what it waits for in a sentence.

Each section reads its domain's own list functions (the same filters as the list a section
links to), so a count on the home page and the list behind it agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.settings import Settings
from vulnops.workqueue import external, jobs, responders, reviews, shipping
from vulnops.workqueue.context import Builder, Context
from vulnops.workqueue.schemas import WorkQueue
from vulnops.workqueue.sections import SectionKey, sections_for

BUILDERS: dict[SectionKey, Builder] = {
    SectionKey.BREACHES: responders.breaches,
    SectionKey.MY_CASES: responders.my_cases,
    SectionKey.MY_APPROVALS: responders.my_approvals,
    SectionKey.NEW_REPORTS: responders.new_reports,
    SectionKey.REPORTERS_WAITING: responders.reporters_waiting,
    SectionKey.MY_FIXES: shipping.my_fixes,
    SectionKey.STAGES: shipping.stages,
    SectionKey.LIVE_ROLLOUTS: shipping.live_rollouts,
    SectionKey.UNSENT_ADVISORIES: shipping.unsent_advisories,
    SectionKey.DEAD_DELIVERIES: shipping.dead_deliveries,
    SectionKey.JOBS: jobs.jobs,
    SectionKey.UNACKNOWLEDGED: external.unacknowledged,
    SectionKey.ASKED_OF_ME: external.asked_of_me,
    SectionKey.MY_REPORTS: external.my_reports,
    SectionKey.MY_ACTION_ITEMS: reviews.my_action_items,
    SectionKey.CUSTOMER_QUESTIONS: shipping.customer_questions,
}


async def work_queue(
    session: AsyncSession, *, principal: Principal, settings: Settings, now: datetime
) -> WorkQueue:
    ctx = Context(session=session, principal=principal, settings=settings, now=now)
    return WorkQueue(
        role=principal.role,
        at=now,
        sections=[await BUILDERS[key](ctx) for key in sections_for(principal.role)],
    )
