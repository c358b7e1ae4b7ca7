"""Export the inventory in the formats it is imported from: a topology document, CSV files
streamed straight out of PostgreSQL (``COPY … TO STDOUT``), and each version's SBOM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection

TENANTS_COPY = """
COPY (
    SELECT t.key, t.name,
           coalesce(string_agg(c.address, ';' ORDER BY c.address)
                    FILTER (WHERE c.channel = 'email'), '') AS security_emails,
           coalesce(min(c.address) FILTER (WHERE c.channel = 'webhook'), '') AS webhook_url,
           t.language, t.time_zone
    FROM tenants t LEFT JOIN tenant_contacts c ON c.tenant_id = t.id
    GROUP BY t.id ORDER BY t.key
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""

RESOURCES_COPY = """
COPY (
    SELECT t.key AS tenant, s.key AS service, r.key AS region, u.scale_unit,
           res.external_id AS resource_id, array_to_string(res.tags, ';') AS tags
    FROM resources res
    JOIN tenants t ON t.id = res.tenant_id
    JOIN deployment_units u ON u.id = res.unit_id
    JOIN services s ON s.id = u.service_id
    JOIN regions r ON r.id = u.region_id
    ORDER BY res.id
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""


async def topology(session: AsyncSession) -> dict[str, Any]:
    services = await session.execute(
        text("SELECT key, name, owner_team, repositories FROM services ORDER BY key")
    )
    regions = await session.execute(
        text(
            "SELECT r.key, r.name, r.geography, p.key AS pair, r.canary, r.traffic_weight "
            "FROM regions r LEFT JOIN regions p ON p.id = r.pair_id ORDER BY r.canary DESC, r.key"
        )
    )
    units = await session.execute(
        text(
            "SELECT s.key AS service, r.key AS region, u.scale_unit, "
            "u.current_version AS version, u.traffic_share, u.tags "
            "FROM deployment_units u JOIN services s ON s.id = u.service_id "
            "JOIN regions r ON r.id = u.region_id ORDER BY s.key, r.key, u.scale_unit"
        )
    )
    return {
        "services": [
            {
                key: list(value) if key == "repositories" else value
                for key, value in row._mapping.items()
                if key != "repositories" or value
            }
            for row in services
        ],
        "regions": [
            {key: value for key, value in row._mapping.items() if value is not None}
            for row in regions
        ],
        "units": [{**row._mapping, "tags": list(row.tags)} for row in units],
    }


async def copy_out(session: AsyncSession, statement: str) -> AsyncIterator[bytes]:
    """Stream a ``COPY … TO STDOUT`` to the caller without holding it all in memory."""
    connection = await raw_connection(session)
    async with connection.cursor() as cursor, cursor.copy(statement) as copy:
        async for chunk in copy:
            yield bytes(chunk)


async def sboms(session: AsyncSession) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    rows = await session.stream(
        text(
            "SELECT s.key, v.version, v.sbom FROM service_versions v "
            "JOIN services s ON s.id = v.service_id ORDER BY s.key, v.version"
        )
    )
    async for service, version, document in rows:
        yield service, version, document
