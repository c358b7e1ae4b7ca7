"""A case's post-incident review: started when the case is mitigated, written (its human
sections), submitted, and published once a second person approves it. Callers commit.

States: ``draft`` (anyone with ``reviews:write`` edits the sections) -> ``in_review`` (an
approval waits; the sections are frozen so the approver approves what they read) ->
``published`` (its record is kept as it was). A rejection returns it to ``draft`` with the
approver's comment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access, milestones
from vulnops.cases import service as cases
from vulnops.cases.milestones import CaseChanged
from vulnops.cases.models import Case
from vulnops.cases.severity import Rating
from vulnops.cases.states import Milestone
from vulnops.db.pagination import Page
from vulnops.errors import Conflict, NotFound
from vulnops.review import actions, record, responders
from vulnops.review.models import ActionItem, Review
from vulnops.review.schemas import ReviewListItem, ReviewOut, ReviewRecord, SectionsIn
from vulnops.settings import Settings

SECTIONS = {
    "impact": "the impact",
    "went_well": "what went well",
    "went_wrong": "what went wrong",
}  # "where we got lucky" may stay empty: not every case was lucky


def approval_subject(case_id: int) -> str:
    return f"review:{case_id}"


async def find(session: AsyncSession, *, case_id: int, lock: bool = False) -> Review | None:
    query = select(Review).where(Review.case_id == case_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found: Review | None = await session.scalar(query)
    return found


async def get(session: AsyncSession, *, case_id: int, lock: bool = False) -> Review:
    found = await find(session, case_id=case_id, lock=lock)
    if found is None:
        raise NotFound(f"case {case_id} has no post-incident review yet")
    return found


async def start(
    session: AsyncSession, *, case_id: int, actor: str, settings: Settings, now: datetime
) -> Review:
    """Start the review of a mitigated case (once: a second start returns the first) and ask
    its team for their feedback by email."""
    case = await cases.get_case(session, case_id=case_id)
    reached = await milestones.reached(session, case_id=case.id)
    if Milestone.MITIGATED not in reached:
        raise Conflict(
            f"{case.tracking_id} is not mitigated yet: its review starts once the fix runs "
            "everywhere (or it is mitigated without one)"
        )
    created = await session.scalar(
        insert(Review)
        .values(case_id=case.id, started_by=actor, started_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[Review.case_id])
        .returning(Review.case_id)
    )
    if created is not None:
        await audit.record(
            session,
            subject=cases.subject(case),
            kind="review.started",
            actor=actor,
            data={"case": case.tracking_id},
        )
        await responders.ask_team(session, case=case, settings=settings, now=now)
    return await get(session, case_id=case.id)


def _automatic(rating: str | None, settings: Settings) -> bool:
    threshold = settings.review_automatic_from
    if threshold == "never" or rating is None:
        return False
    order = [r.value for r in Rating]  # critical first
    return rating in order and order.index(rating) <= order.index(threshold)


async def start_when_mitigated(
    session: AsyncSession, event: CaseChanged, settings: Settings
) -> None:
    """The listener of :class:`CaseChanged`: a case of an important-enough rating that was
    just mitigated gets its review."""
    if Milestone.MITIGATED not in event.recorded:
        return
    case = await cases.get_case(session, case_id=event.case_id)
    if _automatic(case.rating, settings):
        await start(session, case_id=case.id, actor=event.actor, settings=settings, now=event.at)


async def write(
    session: AsyncSession, *, case_id: int, given: SectionsIn, actor: str, now: datetime
) -> Review:
    review = await get(session, case_id=case_id, lock=True)
    if review.state != "draft":
        raise Conflict(
            f"the review is {review.state.replace('_', ' ')}: only a draft is written "
            "(a rejection returns it to draft)"
        )
    changed = [
        name
        for name in ("impact", "went_well", "went_wrong", "lucky")
        if getattr(review, name) != getattr(given, name)
    ]
    for name in changed:
        setattr(review, name, getattr(given, name))
    if changed and actor.lower() not in {a.lower() for a in review.authors}:
        review.authors = [*review.authors, actor]
    review.updated_at = now
    if changed:
        await audit.record(
            session,
            subject=cases.subject(case_id),
            kind="review.written",
            actor=actor,
            data={"sections": changed},
        )
    return review


def missing(review: Review) -> list[str]:
    return [label for name, label in SECTIONS.items() if not getattr(review, name).strip()]


async def submit(
    session: AsyncSession, *, case_id: int, actor: str, settings: Settings, now: datetime
) -> Review:
    """Ask a second person to approve the publication (everyone who wrote a section, and the
    submitter, are its authors)."""
    review = await get(session, case_id=case_id, lock=True)
    if review.state != "draft":
        raise Conflict(f"the review is {review.state.replace('_', ' ')}, not a draft")
    if gaps := missing(review):
        raise Conflict("write " + ", ".join(gaps) + " before the review is submitted", missing=gaps)
    case = await cases.get_case(session, case_id=case_id)
    for author in dict.fromkeys([actor, *review.authors]):
        await approvals.request(
            session,
            step=Step.REVIEW,
            subject=approval_subject(case_id),
            summary=f"Post-incident review of {case.tracking_id}: {case.title}",
            author=author,
            case_id=case_id,
        )
    review.state, review.submitted_by, review.submitted_at = "in_review", actor, now
    review.rejected_comment = None
    await audit.record(
        session, subject=cases.subject(case_id), kind="review.submitted", actor=actor, data={}
    )
    return review


async def decide(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> Review:
    """Publish (the record is kept as it is now) or return to draft with the comment."""
    review = await get(session, case_id=case_id, lock=True)
    if review.state != "in_review":
        raise Conflict(f"the review is {review.state.replace('_', ' ')}: nothing waits for you")
    await approvals.decide(
        session,
        subject=approval_subject(case_id),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if approve:
        kept = await record.generate(session, case_id=case_id, now=now)
        review.state, review.published_by, review.published_at = "published", actor, now
        review.record = kept.model_dump(mode="json")
        review.tenant_hours = kept.exposure.tenant_hours
    else:
        review.state, review.rejected_comment = "draft", (comment or "").strip()
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="review.published" if approve else "review.rejected",
        actor=actor,
        data={"comment": comment},
    )
    return review


async def view(
    session: AsyncSession, *, case_id: int, viewer: Principal | None, now: datetime
) -> ReviewOut:
    review = await get(session, case_id=case_id)
    case = await cases.get_case(session, case_id=case_id)
    kept = (
        ReviewRecord.model_validate(review.record)
        if review.record is not None
        else await record.generate(session, case_id=case_id, now=now)
    )
    names = await access.on_team(session, viewer=viewer, case_id=case_id)
    hidden = set(await access.hidden_ids(session, viewer=viewer))
    return ReviewOut(
        case_id=case.id,
        tracking_id=case.tracking_id,
        title=case.title,
        rating=case.rating,
        restricted=case.restricted,
        state=review.state,
        impact=review.impact,
        went_well=review.went_well,
        went_wrong=review.went_wrong,
        lucky=review.lucky,
        authors=list(review.authors),
        started_by=review.started_by,
        started_at=review.started_at,
        submitted_by=review.submitted_by,
        submitted_at=review.submitted_at,
        rejected_comment=review.rejected_comment,
        published_by=review.published_by,
        published_at=review.published_at,
        missing=missing(review),
        record=record.for_viewer(kept, names_tenants=names, hidden=hidden),
        responders=await responders.of_case(session, case_id=case_id),
        action_items=await actions.of_cases(session, case_ids=[case_id], today=now.date()),
        names_tenants=names,
    )


async def list_reviews(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    state: str | None,
    today: datetime,
    page: int,
    per_page: int,
) -> Page[ReviewListItem]:
    """The reviews of the cases the viewer may see, newest first, with their open and overdue
    action items (counted in the same query)."""
    open_items = (
        select(func.count())
        .where(ActionItem.case_id == Review.case_id, ActionItem.done_at.is_(None))
        .scalar_subquery()
    )
    overdue = (
        select(func.count())
        .where(
            ActionItem.case_id == Review.case_id,
            ActionItem.done_at.is_(None),
            ActionItem.due < today.date(),
        )
        .scalar_subquery()
    )
    query = (
        select(Review, Case.tracking_id, Case.title, Case.rating, open_items, overdue)
        .join(Case, Case.id == Review.case_id)
        .where(access.visible(viewer))
    )
    if state:
        query = query.where(Review.state == state)
    page, per_page = max(1, page), min(max(1, per_page), 200)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(Review.started_at.desc(), Review.case_id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [
        ReviewListItem(
            case_id=r.Review.case_id,
            tracking_id=r.tracking_id,
            title=r.title,
            rating=r.rating,
            state=r.Review.state,
            started_at=r.Review.started_at,
            published_at=r.Review.published_at,
            open_items=r[4],
            overdue_items=r[5],
        )
        for r in rows
    ]
    return Page(items, int(total or 0), page, per_page)
