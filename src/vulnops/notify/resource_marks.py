"""Help with the customers' own resources: a tenant's administrator marks each of its
resources the advisory is about as ``checked`` (done on their side) or ``needs_help``; the
team sees every tenant's progress; an advisory asking them to act stops reminding a tenant once
every one of its affected resources is checked (:func:`vulnops.notify.deliveries
.schedule_reminders` reads the marks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.db.pagination import Page
from vulnops.errors import NotFound
from vulnops.fleet import blast
from vulnops.notify import portal
from vulnops.notify.models import ResourceMark
from vulnops.notify.rendering import MAX_RESOURCES_SHOWN
from vulnops.notify.schemas import ResourceMarkOut, TenantProgressOut, TenantResourcesOut
from vulnops.notify.service import subject
from vulnops.notify.withdrawal import refuse_if_withdrawn

STATUSES = ("checked", "needs_help")


async def tenant_resources(
    session: AsyncSession, *, advisory_id: int, tenant_id: int
) -> TenantResourcesOut:
    """The tenant's resources the advisory is about (the first ones by name), each with its
    mark, and the counts over all of them (404 unless the advisory was sent to the tenant)."""
    advisory, _ = await portal.sent_versions(session, advisory_id, tenant_id)
    found, total = await blast.tenant_exposure(
        session, case_id=advisory.case_id, tenant_id=tenant_id, limit=MAX_RESOURCES_SHOWN
    )
    marks = {
        m.resource_id: m
        for m in await session.scalars(
            select(ResourceMark).where(
                ResourceMark.advisory_id == advisory_id, ResourceMark.tenant_id == tenant_id
            )
        )
    }
    counts = {status: sum(1 for m in marks.values() if m.status == status) for status in STATUSES}
    return TenantResourcesOut(
        total=total,
        checked=counts["checked"],
        needs_help=counts["needs_help"],
        resources=[
            ResourceMarkOut(
                resource_id=row["resource_id"],
                external_id=row["external_id"],
                region=row["region"],
                unit=row["unit"],
                status=given.status if given else None,
                note=given.note if given else "",
                marked_by=given.marked_by if given else None,
                marked_at=given.marked_at if given else None,
            )
            for row in found
            for given in (marks.get(row["resource_id"]),)
        ],
    )


async def mark(
    session: AsyncSession,
    *,
    advisory_id: int,
    tenant_id: int,
    resource_id: int,
    status: str,
    note: str,
    actor: str,
    now: datetime,
) -> None:
    """Mark one of the tenant's affected resources (again replaces the mark); 404 for a
    resource that is not the tenant's, or that the advisory is not about."""
    advisory, _ = await portal.sent_versions(session, advisory_id, tenant_id)
    refuse_if_withdrawn(advisory, "marking its resources")
    if not await blast.exposed(
        session, case_id=advisory.case_id, tenant_id=tenant_id, resource_id=resource_id
    ):
        raise NotFound(f"no resource {resource_id} of yours is affected by this advisory")
    values = {"status": status, "note": note.strip(), "marked_by": actor, "marked_at": now}
    await session.execute(
        insert(ResourceMark)
        .values(advisory_id=advisory_id, tenant_id=tenant_id, resource_id=resource_id, **values)
        .on_conflict_do_update(
            index_elements=["advisory_id", "tenant_id", "resource_id"], set_=values
        )
    )
    await audit.record(
        session,
        subject=subject(advisory_id),
        kind="advisory.resource_marked",
        actor=actor,
        data={"tenant_id": tenant_id, "resource_id": resource_id, "status": status},
    )


_PROGRESS = """
FROM advisory_recipients r
JOIN tenants t ON t.id = r.tenant_id
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE m.status = 'checked') AS checked,
           count(*) FILTER (WHERE m.status = 'needs_help') AS needs_help
    FROM advisory_resource_marks m
    WHERE m.advisory_id = r.advisory_id AND m.tenant_id = r.tenant_id
) m ON true
WHERE r.advisory_id = :advisory AND r.resources > 0
"""


async def progress(
    session: AsyncSession, *, advisory_id: int, page: int = 1, per_page: int = 50
) -> Page[TenantProgressOut]:
    """Each tenant's progress on its resources, those asking for help first, then those with
    the most left to check."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    params = {"advisory": advisory_id}
    total = await session.scalar(text(f"SELECT count(*) {_PROGRESS}"), params)
    rows = await session.execute(
        text(
            "SELECT r.tenant_id, t.key AS tenant_key, t.name AS tenant_name, "
            "r.resources, m.checked, m.needs_help, "
            f"greatest(r.resources - m.checked - m.needs_help, 0) AS unmarked {_PROGRESS} "
            "ORDER BY m.needs_help DESC, r.resources - m.checked DESC, t.key "
            "LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    )
    items = [TenantProgressOut.model_validate(dict(row._mapping)) for row in rows]
    return Page(items, int(total or 0), page, per_page)
