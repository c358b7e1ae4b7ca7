"""What people do with deliveries: count them per version, list them (the dead ones above
all), read a delivery's history, and resend dead ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.db.pagination import Page
from vulnops.errors import Conflict, NotFound


async def counts(session: AsyncSession, *, version_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per version: deliveries by channel and status, acknowledgments."""
    found: dict[int, dict[str, Any]] = {
        vid: {"channels": {}, "acknowledged": 0} for vid in version_ids
    }
    if not version_ids:
        return found
    rows = await session.execute(
        text(
            "SELECT version_id, channel, status, count(*) AS n FROM deliveries "
            "WHERE version_id = ANY(CAST(:ids AS bigint[])) AND reminder = 0 "
            "GROUP BY version_id, channel, status"
        ),
        {"ids": list(version_ids)},
    )
    for row in rows:
        found[row.version_id]["channels"].setdefault(row.channel, {})[row.status] = int(row.n)
    acks = await session.execute(
        text(
            "SELECT version_id, count(*) AS n FROM advisory_acknowledgments "
            "WHERE version_id = ANY(CAST(:ids AS bigint[])) GROUP BY version_id"
        ),
        {"ids": list(version_ids)},
    )
    for row in acks:
        found[row.version_id]["acknowledged"] = int(row.n)
    return found


_LIST = """
SELECT d.id, d.channel, d.reminder, d.status, d.attempts, d.last_error, d.updated_at,
       d.delivered_at, t.key AS tenant, v.number AS version, v.advisory_id, c.tracking_id,
       a.case_id
FROM deliveries d
JOIN tenants t ON t.id = d.tenant_id
JOIN advisory_versions v ON v.id = d.version_id
JOIN advisories a ON a.id = v.advisory_id
JOIN cases c ON c.id = a.case_id
WHERE (CAST(:status AS text) IS NULL OR d.status = :status)
  AND (CAST(:advisory_id AS bigint) IS NULL OR v.advisory_id = :advisory_id)
  AND NOT (a.case_id = ANY(CAST(:hidden AS bigint[])))
"""


async def list_deliveries(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    status: str | None = None,
    advisory_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[dict[str, Any]]:
    """``viewer``: whose list (the deliveries of restricted cases only for their teams)."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    hidden = access.hidden_case_ids(viewer)
    params = {
        "status": status,
        "advisory_id": advisory_id,
        "hidden": list(await session.scalars(hidden)) if hidden is not None else [],
    }
    total = await session.scalar(text(f"SELECT count(*) FROM ({_LIST}) x"), params)  # noqa: S608
    rows = await session.execute(
        text(_LIST + " ORDER BY d.id DESC LIMIT :limit OFFSET :offset"),
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    )
    return Page([dict(row._mapping) for row in rows], int(total or 0), page, per_page)


async def events(session: AsyncSession, *, delivery_id: int) -> list[dict[str, Any]]:
    """The delivery's changes, oldest first (404 for a delivery that does not exist)."""
    exists = await session.scalar(
        text("SELECT true FROM deliveries WHERE id = :id"), {"id": delivery_id}
    )
    if not exists:
        raise NotFound(f"no delivery {delivery_id}")
    rows = await session.execute(
        text(
            "SELECT status, attempt, detail, actor, at FROM delivery_events "
            "WHERE delivery_id = :id ORDER BY id"
        ),
        {"id": delivery_id},
    )
    return [dict(row._mapping) for row in rows]


async def resend(
    session: AsyncSession,
    *,
    actor: str,
    delivery_id: int | None = None,
    advisory_id: int | None = None,
) -> int:
    """Put one dead delivery (or every dead delivery of an advisory) back in the queue."""
    if (delivery_id is None) == (advisory_id is None):
        raise ValueError("give a delivery or an advisory")
    result = await session.execute(
        text(
            """
            WITH again AS (
                UPDATE deliveries d SET status = 'pending', attempts = 0, last_error = NULL,
                    next_attempt_at = now(), lease_until = NULL, lease_token = NULL,
                    updated_at = now()
                FROM advisory_versions v
                WHERE v.id = d.version_id AND d.status = 'dead'
                  AND (CAST(:delivery_id AS bigint) IS NULL OR d.id = :delivery_id)
                  AND (CAST(:advisory_id AS bigint) IS NULL OR v.advisory_id = :advisory_id)
                RETURNING d.id
            )
            INSERT INTO delivery_events (delivery_id, status, attempt, detail, actor)
            SELECT id, 'pending', 0, 'resent by hand', :actor FROM again
            """
        ),
        {"delivery_id": delivery_id, "advisory_id": advisory_id, "actor": actor},
    )
    resent = int(result.rowcount)  # type: ignore[attr-defined]
    if delivery_id is not None and not resent:
        status = await session.scalar(
            text("SELECT status FROM deliveries WHERE id = :id"), {"id": delivery_id}
        )
        if status is None:
            raise NotFound(f"no delivery {delivery_id}")
        raise Conflict(f"delivery {delivery_id} is {status}; only a dead delivery is resent")
    return resent
