"""The demo's reviews and a year of history: the role-import and the backup-policy cases have
published post-incident reviews (written by the responder, approved by communications; the
backup one with an action item past its due date), and the dashboard has a year of generated
cases behind them."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.review import actions, history, responders, service
from vulnops.review.schemas import ActionItemIn, ResponderFeedbackIn, SectionsIn
from vulnops.settings import get_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

WRITER = "responder@vulnops.example"
APPROVER = "comms@vulnops.example"
HISTORY_CASES = 600
HISTORY_REVIEWS = 24

REVIEWS = (
    (
        "role import organisation owner",
        SectionsIn(
            impact="A project administrator could make themselves **owner of the whole "
            "organisation** through role import, on every tenant of Identity. It was "
            "exploited once, by the reporter's test account; no customer's organisation "
            "changed hands.",
            went_well="- Switching role import off for project admins took 20 minutes and "
            "needed no deployment.\n- The advisory reached every Identity tenant the same day.",
            went_wrong="- Triage waited three hours for the Identity on-call, who was paged "
            "on the wrong rotation.\n- Nothing in our tests checks a role's scope on import.",
            lucky="The reporter used a test organisation, and told us before writing about it.",
        ),
        (
            ("Test every role mapping of the import against its scope", 45, False),
            ("Page the Identity rotation for identity cases", 10, True),
        ),
    ),
    (
        "cross-tenant backup policies",
        SectionsIn(
            impact="Any tenant could read another tenant's backup **policy** (schedules and "
            "retention, never the backups) by guessing its id.",
            went_well="The duplicate report was merged in minutes; the fix was a configuration "
            "change, live everywhere in an hour.",
            went_wrong="The object's tenant was never checked on this endpoint since it was "
            "written; the API review checklist has no line for it.",
            lucky="Policy ids are sequential but sparse; the access logs show no other reader.",
        ),
        (
            ("Add the tenant check to the API review checklist", -9, False),
            ("Lint rule: every handler loading by id checks the tenant", 30, False),
        ),
    ),
)


async def seed_reviews(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    writer = await users.get_user_by_email(session, email=WRITER)
    engineer = await users.get_user_by_email(session, email="engineer@vulnops.example")
    staff = [u.id for u in await users.assignable(session)]
    await history.generate(
        session,
        cases=HISTORY_CASES,
        now=context.now,
        settings=settings,
        owners=staff,
        reviews=HISTORY_REVIEWS,
        spare_tenants=("contoso",),
    )
    for search, sections, items in REVIEWS:
        found = await cases.list_cases(session, viewer=None, now=context.now, search=search)
        if not found.items:
            continue
        case_id = found.items[0].id
        await service.start(
            session, case_id=case_id, actor=WRITER, settings=settings, now=context.now
        )
        await service.write(session, case_id=case_id, given=sections, actor=WRITER, now=context.now)
        for title, due_in, done in items:
            item = await actions.add(
                session,
                case_id=case_id,
                given=ActionItemIn(
                    title=title,
                    owner_id=engineer.id,
                    due=(context.now + timedelta(days=due_in)).date(),
                ),
                actor=WRITER,
            )
            if done:
                await actions.complete(
                    session, item_id=item.id, actor=engineer.email, now=context.now
                )
        for asked in await responders.of_case(session, case_id=case_id):
            if asked.user_id == writer.id:
                await responders.give(
                    session,
                    case_id=case_id,
                    user_id=writer.id,
                    actor=writer.email,
                    given=ResponderFeedbackIn(
                        rating=4, comment="Good calls, but the paging went to the wrong rotation."
                    ),
                    now=context.now,
                )
        await service.submit(
            session, case_id=case_id, actor=WRITER, settings=settings, now=context.now
        )
        await service.decide(
            session,
            case_id=case_id,
            actor=APPROVER,
            approve=True,
            comment="Clear; publish it.",
            settings=settings,
            now=context.now,
        )
