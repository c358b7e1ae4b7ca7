"""Reading the inventory: services and their versions, regions, units, a tenant's resources, and
the class-wide question — which services (and versions) contain a component in a version range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import NotFound
from vulnops.fleet import ranges
from vulnops.fleet.models import DeploymentUnit, Region, Resource, Service, ServiceVersion
from vulnops.fleet.sbom import parse_purl


async def services_overview(session: AsyncSession) -> list[dict[str, Any]]:
    """Every service with its units, regions and versions running, in one query."""
    rows = await session.execute(
        text(
            """
            WITH per_version AS (
                SELECT service_id, current_version, count(*) AS units
                FROM deployment_units GROUP BY service_id, current_version
            )
            SELECT s.id, s.key, s.name, s.owner_team,
                   coalesce(sum(pv.units), 0) AS units,
                   (SELECT count(DISTINCT region_id) FROM deployment_units u
                    WHERE u.service_id = s.id) AS regions,
                   coalesce(jsonb_object_agg(pv.current_version, pv.units)
                            FILTER (WHERE pv.current_version IS NOT NULL), '{}') AS versions,
                   (SELECT count(*) FROM service_versions sv WHERE sv.service_id = s.id) AS sboms
            FROM services s LEFT JOIN per_version pv ON pv.service_id = s.id
            GROUP BY s.id ORDER BY s.key
            """
        )
    )
    return [dict(row._mapping) for row in rows]


async def get_service(session: AsyncSession, *, key: str) -> Service:
    service = await session.scalar(select(Service).where(Service.key == key))
    if service is None:
        raise NotFound(f"no service {key!r}")
    return service


async def service_keys(session: AsyncSession, *, ids: list[int]) -> dict[int, str]:
    rows = await session.execute(select(Service.id, Service.key).where(Service.id.in_(ids)))
    return {int(service_id): str(key) for service_id, key in rows.all()}


async def service_names(session: AsyncSession, *, keys: list[str]) -> dict[str, str]:
    rows = await session.execute(select(Service.key, Service.name).where(Service.key.in_(keys)))
    return {str(key): str(name) for key, name in rows.all()}


async def service_versions(session: AsyncSession, *, service_id: int) -> list[dict[str, Any]]:
    """A service's versions: units running each, and its SBOM (components) when imported."""
    rows = await session.execute(
        text(
            """
            SELECT v.version, coalesce(u.units, 0) AS units, sv.id AS sbom_id,
                   sv.spec_version, sv.imported_at,
                   (SELECT count(*) FROM components c WHERE c.service_version_id = sv.id)
                       AS components
            FROM (
                SELECT current_version AS version FROM deployment_units WHERE service_id = :id
                UNION SELECT version FROM service_versions WHERE service_id = :id
            ) v
            LEFT JOIN (SELECT current_version, count(*) AS units FROM deployment_units
                       WHERE service_id = :id GROUP BY current_version) u
                   ON u.current_version = v.version
            LEFT JOIN service_versions sv ON sv.service_id = :id AND sv.version = v.version
            ORDER BY v.version DESC
            """
        ),
        {"id": service_id},
    )
    return [dict(row._mapping) for row in rows]


async def sbom(session: AsyncSession, *, service_key: str, version: str) -> dict[str, Any]:
    service = await get_service(session, key=service_key)
    document = await session.scalar(
        select(ServiceVersion.sbom).where(
            ServiceVersion.service_id == service.id, ServiceVersion.version == version
        )
    )
    if document is None:
        raise NotFound(f"no SBOM for {service_key}@{version}")
    return dict(document)


async def regions_overview(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT r.key, r.name, r.geography, r.canary, r.traffic_weight, p.key AS pair,
                   count(u.id) AS units
            FROM regions r LEFT JOIN regions p ON p.id = r.pair_id
            LEFT JOIN deployment_units u ON u.region_id = r.id
            GROUP BY r.id, p.key ORDER BY r.canary DESC, r.key
            """
        )
    )
    return [dict(row._mapping) for row in rows]


@dataclass(frozen=True)
class UnitRow:
    id: int
    service: str
    region: str
    scale_unit: str
    current_version: str
    traffic_share: float
    tags: list[str]


def _units_query(
    *, service: str | None, region: str | None, version: str | None
) -> Select[DeploymentUnit, str, str]:
    stmt = (
        select(DeploymentUnit, Service.key, Region.key)
        .join(Service, Service.id == DeploymentUnit.service_id)
        .join(Region, Region.id == DeploymentUnit.region_id)
    )
    if service:
        stmt = stmt.where(Service.key == service)
    if region:
        stmt = stmt.where(Region.key == region)
    if version:
        stmt = stmt.where(DeploymentUnit.current_version == version)
    return stmt


async def list_units(
    session: AsyncSession,
    *,
    service: str | None = None,
    region: str | None = None,
    version: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page[UnitRow]:
    stmt = _units_query(service=service, region=region, version=version)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    per_page = min(max(per_page, 1), 200)
    rows = await session.execute(
        stmt.order_by(Service.key, Region.key, DeploymentUnit.scale_unit)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    items = [
        UnitRow(
            id=unit.id,
            service=service_key,
            region=region_key,
            scale_unit=unit.scale_unit,
            current_version=unit.current_version,
            traffic_share=unit.traffic_share,
            tags=list(unit.tags),
        )
        for unit, service_key, region_key in rows.all()
    ]
    return Page(items, total or 0, max(page, 1), per_page)


async def tenant_resources(
    session: AsyncSession, *, tenant_id: int, page: int = 1, per_page: int = 100
) -> Page[Resource]:
    stmt = select(Resource).where(Resource.tenant_id == tenant_id).order_by(Resource.external_id)
    return await paginate_scalars(session, stmt, page=page, per_page=per_page)


async def unit_labels(session: AsyncSession, *, unit_ids: set[int]) -> dict[int, str]:
    """``service/region/scale-unit`` for each unit id."""
    if not unit_ids:
        return {}
    rows = await session.execute(
        select(DeploymentUnit.id, Service.key, Region.key, DeploymentUnit.scale_unit)
        .join(Service, Service.id == DeploymentUnit.service_id)
        .join(Region, Region.id == DeploymentUnit.region_id)
        .where(DeploymentUnit.id.in_(unit_ids))
    )
    return {row[0]: f"{row[1]}/{row[2]}/{row[3]}" for row in rows.all()}


@dataclass(frozen=True)
class ComponentMatch:
    package: str
    range: str | None
    versions_in_range: list[str]
    unreadable_versions: list[str]
    services: list[dict[str, Any]]


async def component_versions(
    session: AsyncSession, *, purl: str, version_range: str | None, field: str = "purl"
) -> tuple[list[str], list[str], tuple[str, str, str]]:
    """The versions of a package found in any SBOM that fall in the range (all of them when no
    range is given), the versions the range's scheme could not read, and the package's key."""
    package = parse_purl(purl, field=field)
    key = (package.type, package.namespace or "", package.name)
    found = list(
        await session.scalars(
            text(
                "SELECT DISTINCT version FROM components "
                "WHERE purl_type = :t AND namespace = :ns AND name = :n"
            ),
            {"t": key[0], "ns": key[1], "n": key[2]},
        )
    )
    if version_range is None or not version_range.strip():
        return found, [], key
    parsed = ranges.parse_range(version_range, purl_type=package.type, field="range")
    inside, unreadable = ranges.select(parsed, found)
    return inside, unreadable, key


async def services_with_component(
    session: AsyncSession, *, purl: str, version_range: str | None
) -> ComponentMatch:
    """The class-wide question: every service version whose SBOM holds the package in the range,
    with how many deployment units run that version now."""
    versions, unreadable, key = await component_versions(
        session, purl=purl, version_range=version_range
    )
    rows = (
        await session.execute(
            text(
                """
                SELECT s.key AS service, sv.version AS service_version,
                       array_agg(DISTINCT c.version ORDER BY c.version) AS component_versions,
                       (SELECT count(*) FROM deployment_units u
                        WHERE u.service_id = s.id AND u.current_version = sv.version) AS units
                FROM components c
                JOIN service_versions sv ON sv.id = c.service_version_id
                JOIN services s ON s.id = sv.service_id
                WHERE c.purl_type = :t AND c.namespace = :ns AND c.name = :n
                  AND c.version = ANY(CAST(:versions AS text[]))
                GROUP BY s.id, sv.version ORDER BY s.key, sv.version
                """
            ),
            {"t": key[0], "ns": key[1], "n": key[2], "versions": versions},
        )
    ).all()
    package = "/".join(part for part in (f"pkg:{key[0]}", key[1], key[2]) if part)
    return ComponentMatch(
        package=package,
        range=version_range,
        versions_in_range=sorted(versions),
        unreadable_versions=sorted(unreadable),
        services=[dict(row._mapping) for row in rows] if versions else [],
    )


@dataclass(frozen=True)
class Presence:
    """What one service version's SBOM says of a package: ``absent`` (not in it), ``outside``
    (only in versions outside the range), ``inside`` (in the range) or ``unknown`` (a version
    the range's scheme could not read)."""

    service: str
    version: str
    holds: str


async def component_presence(
    session: AsyncSession, *, services: list[str], purl: str, version_range: str | None
) -> list[Presence]:
    """For every version of these services that has an SBOM, whether it holds the package in
    the range — one query over the SBOMs' components."""
    inside, unreadable, key = await component_versions(
        session, purl=purl, version_range=version_range
    )
    rows = await session.execute(
        text(
            """
            SELECT s.key AS service, sv.version,
                   array_remove(array_agg(DISTINCT c.version), NULL) AS held
            FROM service_versions sv
            JOIN services s ON s.id = sv.service_id
            LEFT JOIN components c ON c.service_version_id = sv.id
                 AND c.purl_type = :t AND c.namespace = :ns AND c.name = :n
            WHERE s.key = ANY(CAST(:services AS text[]))
            GROUP BY s.key, sv.version ORDER BY s.key, sv.version
            """
        ),
        {"t": key[0], "ns": key[1], "n": key[2], "services": services},
    )

    def holds(held: list[str]) -> str:
        if not held:
            return "absent"
        if set(held) & set(inside):
            return "inside"
        return "unknown" if set(held) & set(unreadable) else "outside"

    return [Presence(row.service, row.version, holds(list(row.held))) for row in rows]
