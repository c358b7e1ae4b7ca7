"""Class-wide questions over the whole inventory, for variant hunts and their guards: which
service versions hold a package in a range (optionally only those whose SBOM arrived after a
time), and which services serve resources whose tags match a predicate — each one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.fleet.models import ServiceVersion
from vulnops.fleet.service import component_versions


@dataclass(frozen=True)
class ComponentHit:
    service_id: int
    service: str
    version: str
    component_versions: list[str]
    units: int
    imported_at: datetime


async def component_hits(
    session: AsyncSession,
    *,
    purl: str,
    version_range: str | None,
    imported_after: datetime | None = None,
) -> list[ComponentHit]:
    """Every service version whose SBOM holds the package in the range, with the units that
    run it now (the ``purl`` and ``range`` are checked: Invalid names the field)."""
    versions, _, key = await component_versions(session, purl=purl, version_range=version_range)
    if not versions:
        return []
    rows = await session.execute(
        text(
            """
            SELECT s.id AS service_id, s.key AS service, sv.version, sv.imported_at,
                   array_agg(DISTINCT c.version ORDER BY c.version) AS component_versions,
                   (SELECT count(*) FROM deployment_units u
                    WHERE u.service_id = s.id AND u.current_version = sv.version) AS units
            FROM components c
            JOIN service_versions sv ON sv.id = c.service_version_id
            JOIN services s ON s.id = sv.service_id
            WHERE c.purl_type = :t AND c.namespace = :ns AND c.name = :n
              AND c.version = ANY(CAST(:versions AS text[]))
              AND (CAST(:after AS timestamptz) IS NULL OR sv.imported_at > :after)
            GROUP BY s.id, sv.id ORDER BY s.key, sv.version
            """
        ),
        {"t": key[0], "ns": key[1], "n": key[2], "versions": versions, "after": imported_after},
    )
    return [
        ComponentHit(
            r.service_id, r.service, r.version, list(r.component_versions), r.units, r.imported_at
        )
        for r in rows
    ]


@dataclass(frozen=True)
class TagHit:
    service_id: int
    service: str
    resources: int
    tenants: int
    units: int


async def tag_hits(
    session: AsyncSession, *, tags_all: list[str], tags_any: list[str], tags_none: list[str]
) -> list[TagHit]:
    """Per service, the resources whose tags have all of ``tags_all``, one of ``tags_any``
    and none of ``tags_none`` (an empty list asks nothing), with their tenants and units."""
    rows = await session.execute(
        text(
            """
            SELECT s.id AS service_id, s.key AS service, count(*) AS resources,
                   count(DISTINCT r.tenant_id) AS tenants, count(DISTINCT r.unit_id) AS units
            FROM resources r
            JOIN deployment_units u ON u.id = r.unit_id
            JOIN services s ON s.id = u.service_id
            WHERE (cardinality(CAST(:all AS text[])) = 0 OR r.tags @> CAST(:all AS varchar[]))
              AND (cardinality(CAST(:any AS text[])) = 0 OR r.tags && CAST(:any AS varchar[]))
              AND NOT (r.tags && CAST(:none AS varchar[]))
            GROUP BY s.id ORDER BY s.key
            """
        ),
        {"all": tags_all, "any": tags_any, "none": tags_none},
    )
    return [TagHit(r.service_id, r.service, r.resources, r.tenants, r.units) for r in rows]


async def newest_import(session: AsyncSession) -> datetime | None:
    """When the newest SBOM arrived (a guard's cursor starts there)."""
    found: datetime | None = await session.scalar(select(func.max(ServiceVersion.imported_at)))
    return found


async def services_with_new_sboms(session: AsyncSession, *, after: datetime | None) -> list[str]:
    """The services with an SBOM imported after ``after`` (all of them for None)."""
    rows = await session.scalars(
        text(
            "SELECT DISTINCT s.key FROM service_versions sv "
            "JOIN services s ON s.id = sv.service_id "
            "WHERE CAST(:after AS timestamptz) IS NULL OR sv.imported_at > :after "
            "ORDER BY s.key"
        ),
        {"after": after},
    )
    return list(rows)
