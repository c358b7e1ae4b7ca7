"""What waits for the people who tell customers: versions not sent yet, and deliveries that
died. Both from SQL on partial indexes, a page at a time."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.db.pagination import Page
from vulnops.notify.schemas import DeadOfAdvisory, UnsentVersion

_UNSENT = """
FROM advisory_versions v
JOIN advisories a ON a.id = v.advisory_id
JOIN cases c ON c.id = a.case_id
WHERE v.status IN ('draft', 'approved')
  AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
"""


async def unsent_versions(
    session: AsyncSession, *, viewer: Principal | None, per_page: int = 50
) -> Page[UnsentVersion]:
    """Approved versions first (they only need sending), then drafts, oldest first (those of
    cases hidden from ``viewer`` left out)."""
    hidden = await access.hidden_ids(session, viewer=viewer)
    total = await session.scalar(text(f"SELECT count(*) {_UNSENT}"), {"hidden": hidden})
    rows = await session.execute(
        text(
            "SELECT v.advisory_id, a.case_id, c.tracking_id, v.number, v.title, v.status, "
            f"v.created_by, v.created_at, v.approved_by {_UNSENT} "
            "ORDER BY v.status = 'draft', v.created_at, v.id LIMIT :limit"
        ),
        {"limit": per_page, "hidden": hidden},
    )
    items = [UnsentVersion.model_validate(dict(row._mapping)) for row in rows]
    return Page(items, int(total or 0), 1, per_page)


_DEAD = """
FROM deliveries d
JOIN advisory_versions v ON v.id = d.version_id
JOIN advisories a ON a.id = v.advisory_id
JOIN cases c ON c.id = a.case_id
WHERE d.status = 'dead' AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
"""


async def dead_deliveries(
    session: AsyncSession, *, viewer: Principal | None, per_page: int = 50
) -> tuple[int, list[DeadOfAdvisory]]:
    """How many deliveries are dead, and the advisories they belong to (most dead first;
    those of cases hidden from ``viewer`` left out)."""
    hidden = await access.hidden_ids(session, viewer=viewer)
    total = await session.scalar(text(f"SELECT count(*) {_DEAD}"), {"hidden": hidden})
    rows = await session.execute(
        text(
            f"""
            SELECT v.advisory_id, a.case_id, c.tracking_id, count(*) AS dead,
                   count(DISTINCT d.tenant_id) AS tenants,
                   (array_agg(d.last_error ORDER BY d.updated_at DESC))[1] AS last_error,
                   min(d.updated_at) AS since
            {_DEAD}
            GROUP BY v.advisory_id, a.case_id, c.tracking_id
            ORDER BY count(*) DESC, v.advisory_id
            LIMIT :limit
            """
        ),
        {"limit": per_page, "hidden": hidden},
    )
    return int(total or 0), [DeadOfAdvisory.model_validate(dict(row._mapping)) for row in rows]
