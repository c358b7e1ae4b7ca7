"""Pages: raised (once per open dedup key), acknowledged, resolved — each an event in the log on
the page (``page:N``), which the case's timeline shows. Raising a page snapshots the escalation
policy and defers its first escalation in the same transaction (``engine`` runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.db.database import raw_connection
from vulnops.db.pagination import Page as ListPage
from vulnops.db.pagination import paginate_scalars
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.jobcontext import bound
from vulnops.oncall import escalation, mirrors
from vulnops.oncall.models import Page, PageNotification
from vulnops.settings import Settings

Urgency = Literal["high", "low"]
ACK_LINK_SECONDS = 30 * 60
DEDUP_KEY_CHARS = 255
HIGH_RATINGS = ("critical", "important")


def urgency_of(rating: str | None) -> Urgency:
    """High for the ratings that page at night (critical, important), else low."""
    return "high" if rating in HIGH_RATINGS else "low"


def subject(page_id: int) -> str:
    return f"page:{page_id}"


_POLICY = """
SELECT p.key, p.repeat, st.position, st.delay_minutes,
       coalesce(array_agg(CASE WHEN t.user_id IS NOT NULL THEN 'user:' || u.email
                               WHEN t.layer IS NOT NULL THEN 'layer:' || s.key || '/' || t.layer
                               ELSE 'schedule:' || s.key END ORDER BY t.position)
                FILTER (WHERE t.step_id IS NOT NULL), '{}') AS targets
FROM escalation_policies p
LEFT JOIN escalation_steps st ON st.policy_id = p.id
LEFT JOIN escalation_targets t ON t.step_id = st.id
LEFT JOIN users u ON u.id = t.user_id
LEFT JOIN oncall_schedules s ON s.id = t.schedule_id
WHERE p.id = (
    SELECT coalesce(
        (SELECT sp.policy_id FROM oncall_service_policies sp
         JOIN services sv ON sv.id = sp.service_id
         WHERE sv.key = ANY(CAST(:services AS text[])) ORDER BY sv.key LIMIT 1),
        (SELECT id FROM escalation_policies WHERE is_default)))
GROUP BY p.key, p.repeat, st.position, st.delay_minutes
ORDER BY st.position
"""


async def policy_for(session: AsyncSession, *, services: list[str]) -> dict[str, Any]:
    """The escalation policy of the first of these services that has one, else the default —
    as a snapshot (its steps and targets as they are now); empty when there is none."""
    rows = (await session.execute(text(_POLICY), {"services": services})).all()
    if not rows:
        return {}
    return {
        "key": rows[0].key,
        "repeat": rows[0].repeat,
        "steps": [
            {"delay_minutes": row.delay_minutes, "targets": list(row.targets)}
            for row in rows
            if row.position is not None
        ],
    }


async def subjects_of_case(session: AsyncSession, *, case_id: int) -> list[str]:
    """The log subjects of a case's pages (its timeline tells them)."""
    found = await session.scalars(select(Page.id).where(Page.case_id == case_id))
    return [subject(page_id) for page_id in found]


@dataclass(frozen=True)
class Raised:
    page: Page
    new: bool


async def raise_page(
    session: AsyncSession,
    *,
    dedup_key: str,
    title: str,
    details: str = "",
    urgency: Urgency,
    source: str,
    services: list[str],
    actor: str,
    now: datetime,
    settings: Settings,
    case_id: int | None = None,
    report_id: int | None = None,
) -> Raised:
    """Raise a page, or return the open one with the same dedup key (nothing raised twice)."""
    if not dedup_key.strip() or len(dedup_key) > DEDUP_KEY_CHARS:
        raise Invalid(f"dedup_key: give 1 to {DEDUP_KEY_CHARS} characters")
    open_page = await session.scalar(
        select(Page).where(Page.dedup_key == dedup_key, Page.status != "resolved")
    )
    if open_page is not None:
        return Raised(open_page, new=False)
    policy = await policy_for(session, services=services)
    page = Page(
        dedup_key=dedup_key,
        subject=title[:300],
        details=details[:20_000],
        urgency=urgency,
        source=source,
        case_id=case_id,
        report_id=report_id,
        policy=policy,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(page)
            await session.flush()
    except IntegrityError:  # a concurrent raise of the same key committed first: theirs wins
        theirs = await session.scalar(
            select(Page).where(Page.dedup_key == dedup_key, Page.status != "resolved")
        )
        if theirs is None:
            raise
        return Raised(theirs, new=False)
    await audit.record(
        session,
        subject=subject(page.id),
        kind="page.triggered",
        actor=actor,
        data={
            "title": page.subject,
            "urgency": urgency,
            "source": source,
            "policy": policy.get("key"),
            "case_id": case_id,
        },
    )
    due = escalation.first(policy)
    if due is not None:
        await defer_escalation(session, page.id, due, now=now)
    await mirrors.defer(session, page, "triggered", settings=settings)
    return Raised(page, new=True)


async def defer_escalation(
    session: AsyncSession, page_id: int, due: escalation.Due, *, now: datetime
) -> None:
    """Defer the escalation job on the caller's transaction: it exists iff that commits."""
    from vulnops.oncall.tasks import escalate  # noqa: PLC0415 - the tasks import this module

    connection = await raw_connection(session)
    await (
        bound(escalate)
        .configure(
            connection=connection,
            lock=f"page-{page_id}",
            schedule_at=now + timedelta(minutes=due.delay_minutes),
        )
        .defer_async(page_id=page_id, step=due.step, loop=due.loop)
    )


async def get(session: AsyncSession, *, page_id: int, lock: bool = False) -> Page:
    page = await session.get(Page, page_id, with_for_update=lock)
    if page is None:
        raise NotFound(f"no page #{page_id}")
    return page


async def acknowledge(
    session: AsyncSession,
    *,
    page_id: int,
    actor: str,
    now: datetime,
    settings: Settings,
    via: str = "api",
) -> Page:
    """Stop the escalation: someone is on it (again: nothing changes)."""
    page = await get(session, page_id=page_id, lock=True)
    if page.status == "resolved":
        raise Conflict(f"page #{page_id} is resolved")
    if page.status == "acknowledged":
        return page
    page.status, page.acknowledged_at, page.acknowledged_by = "acknowledged", now, actor
    await audit.record(
        session,
        subject=subject(page.id),
        kind="page.acknowledged",
        actor=actor,
        data={"via": via, "after_seconds": int((now - page.created_at).total_seconds())},
    )
    await mirrors.defer(session, page, "acknowledged", settings=settings)
    return page


async def resolve(
    session: AsyncSession, *, page_id: int, actor: str, now: datetime, settings: Settings
) -> Page:
    page = await get(session, page_id=page_id, lock=True)
    if page.status == "resolved":
        return page
    page.status, page.resolved_at, page.resolved_by = "resolved", now, actor
    await audit.record(session, subject=subject(page.id), kind="page.resolved", actor=actor)
    await mirrors.defer(session, page, "resolved", settings=settings)
    return page


async def list_pages(
    session: AsyncSession, *, open_only: bool = True, page: int = 1, per_page: int = 50
) -> ListPage[Page]:
    query = select(Page).order_by(Page.created_at.desc(), Page.id.desc())
    if open_only:
        query = query.where(Page.status != "resolved")
    return await paginate_scalars(session, query, page=page, per_page=per_page)


def _links(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret(), salt="page-acknowledgment")


def ack_token(settings: Settings, notification_id: int) -> str:
    return _links(settings).dumps({"n": notification_id})


async def acknowledge_by_link(
    session: AsyncSession, *, token: str, settings: Settings, now: datetime
) -> Page:
    """The emailed link: valid for :data:`ACK_LINK_SECONDS`, once, for the person it was sent
    to (who is the actor)."""
    try:
        found = _links(settings).loads(token, max_age=ACK_LINK_SECONDS)
    except SignatureExpired:
        raise Invalid("this acknowledgment link has expired: acknowledge on the page") from None
    except BadSignature:
        raise Invalid("this is not an acknowledgment link") from None
    notification = await session.get(PageNotification, int(found["n"]), with_for_update=True)
    if notification is None:
        raise Invalid("this is not an acknowledgment link")
    if notification.link_used_at is not None:
        raise Conflict("this acknowledgment link was used already")
    notification.link_used_at = now
    email = await session.scalar(
        text("SELECT email FROM users WHERE id = :id"), {"id": notification.user_id}
    )
    return await acknowledge(
        session,
        page_id=notification.page_id,
        actor=str(email),
        now=now,
        settings=settings,
        via="email link",
    )
