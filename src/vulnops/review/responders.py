"""The responders' feedback: each participant of the case (its team) is asked by email, when
the review starts, for a 5-point rating and a comment. Callers commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.cases import team
from vulnops.cases.models import Case
from vulnops.errors import Forbidden
from vulnops.mail import service as mail
from vulnops.review.models import ResponderFeedback
from vulnops.review.schemas import ResponderFeedbackIn, ResponderOut
from vulnops.settings import Settings


async def ask_team(session: AsyncSession, *, case: Case, settings: Settings, now: datetime) -> int:
    """Ask every member of the case's team not asked yet; how many were asked now."""
    people = {m.user_id: m.name for m in await team.members(session, case=case)}
    if not people:
        return 0
    asked = list(
        await session.scalars(
            insert(ResponderFeedback)
            .values([{"case_id": case.id, "user_id": uid, "asked_at": now} for uid in people])
            .on_conflict_do_nothing()
            .returning(ResponderFeedback.user_id)
        )
    )
    for user_id in asked:
        user = await users.get_user(session, user_id=user_id)
        await mail.queue(
            session,
            settings=settings,
            to=user.email,
            template="review_feedback",
            context={
                "case": case,
                "name": people[user_id],
                "link": f"{settings.public_url.rstrip('/')}/cases/{case.id}/review#my-feedback",
            },
            kind="review.feedback",
            about=f"review:{case.id}:{user_id}",
        )
    return len(asked)


async def give(
    session: AsyncSession,
    *,
    case_id: int,
    user_id: int,
    actor: str,
    given: ResponderFeedbackIn,
    now: datetime,
) -> ResponderFeedback:
    """A participant's answer (given again, it replaces the first); only those asked answer."""
    found = await session.get(ResponderFeedback, (case_id, user_id), with_for_update=True)
    if found is None:
        raise Forbidden(
            "only the case's participants asked for their feedback give it (the team, when the "
            "review started)"
        )
    found.rating, found.comment, found.given_at = given.rating, given.comment, now
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="review.responder_feedback",
        actor=actor,
        data={"rating": given.rating},
    )
    return found


async def of_case(session: AsyncSession, *, case_id: int) -> list[ResponderOut]:
    found = list(
        await session.scalars(
            select(ResponderFeedback)
            .where(ResponderFeedback.case_id == case_id)
            .order_by(ResponderFeedback.asked_at, ResponderFeedback.user_id)
        )
    )
    names = await users.display_names(session, user_ids={f.user_id for f in found})
    return [
        ResponderOut(
            user_id=f.user_id,
            name=names.get(f.user_id, f"user {f.user_id}"),
            asked_at=f.asked_at,
            rating=f.rating,
            comment=f.comment,
            given_at=f.given_at,
        )
        for f in found
    ]
