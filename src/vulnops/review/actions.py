"""A review's action items: each with an owner and a due date, tracked until done — the
overdue ones are on their owner's work queue and on the program dashboard. Callers commit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import service as users
from vulnops.auth.principal import Principal
from vulnops.auth.roles import STAFF_ROLES
from vulnops.cases import access
from vulnops.cases import service as cases
from vulnops.db.pagination import Page
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.review.models import ActionItem, Review
from vulnops.review.schemas import ActionItemIn, ActionItemOut


async def add(
    session: AsyncSession, *, case_id: int, given: ActionItemIn, actor: str
) -> ActionItem:
    if await session.get(Review, case_id) is None:
        raise NotFound(f"case {case_id} has no post-incident review yet")
    owner = await users.get_user(session, user_id=given.owner_id)
    if owner.disabled or owner.role_enum not in STAFF_ROLES:
        raise Invalid(f"owner_id: {owner.email} is not active staff", field="owner_id")
    item = ActionItem(
        case_id=case_id,
        title=given.title,
        tracker=given.tracker,
        owner_id=owner.id,
        due=given.due,
        created_by=actor,
    )
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="review.action_item_added",
        actor=actor,
        data={"item": item.id, "title": item.title, "owner": owner.email, "due": str(item.due)},
    )
    return item


async def complete(session: AsyncSession, *, item_id: int, actor: str, now: datetime) -> ActionItem:
    item = await session.get(ActionItem, item_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no action item {item_id}")
    if item.done_at is not None:
        raise Conflict(f"action item {item_id} was done on {item.done_at:%Y-%m-%d}")
    item.done_at, item.done_by = now, actor
    await audit.record(
        session,
        subject=cases.subject(item.case_id),
        kind="review.action_item_done",
        actor=actor,
        data={"item": item.id, "title": item.title},
    )
    return item


async def _views(
    session: AsyncSession, found: list[ActionItem], *, today: date
) -> list[ActionItemOut]:
    names = await users.display_names(session, user_ids={i.owner_id for i in found})
    ids = await cases.tracking_ids(session, case_ids={i.case_id for i in found})
    return [
        ActionItemOut(
            id=i.id,
            case_id=i.case_id,
            tracking_id=ids.get(i.case_id, ""),
            title=i.title,
            tracker=i.tracker,
            owner_id=i.owner_id,
            owner=names.get(i.owner_id, f"user {i.owner_id}"),
            due=i.due,
            done_at=i.done_at,
            done_by=i.done_by,
            overdue=i.done_at is None and i.due < today,
        )
        for i in found
    ]


async def of_cases(
    session: AsyncSession, *, case_ids: list[int], today: date
) -> list[ActionItemOut]:
    found = list(
        await session.scalars(
            select(ActionItem)
            .where(ActionItem.case_id.in_(case_ids))
            .order_by(ActionItem.done_at.is_not(None), ActionItem.due, ActionItem.id)
        )
    )
    return await _views(session, found, today=today)


async def item_view(session: AsyncSession, *, item: ActionItem, today: date) -> ActionItemOut:
    return (await _views(session, [item], today=today))[0]


async def open_items(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    today: date,
    owner_id: int | None = None,
    overdue_only: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Page[ActionItemOut]:
    """The open action items of the cases the viewer may see (only ``owner_id``'s, only the
    overdue ones), the soonest due first; paged and counted in SQL."""
    query = select(ActionItem).where(ActionItem.done_at.is_(None))
    if owner_id is not None:
        query = query.where(ActionItem.owner_id == owner_id)
    if overdue_only:
        query = query.where(ActionItem.due < today)
    if (hidden := access.hidden_case_ids(viewer)) is not None:
        query = query.where(ActionItem.case_id.not_in(hidden))
    page, per_page = max(1, page), min(max(1, per_page), 200)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    found = list(
        await session.scalars(
            query.order_by(ActionItem.due, ActionItem.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(await _views(session, found, today=today), int(total or 0), page, per_page)
