"""A case's blast radius: from its criteria to the deployment units, tenants and resources it
touches — computed set-based in SQL and kept with the case (the rollout reads its units, the
customer notification its tenants)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.db.bounded import Input
from vulnops.db.pagination import Page
from vulnops.errors import Invalid, NotFound
from vulnops.fleet.models import BlastRadius, Region, Service
from vulnops.fleet.service import component_versions


class ComponentCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purl: str = Field(min_length=5, max_length=2000, description="e.g. pkg:npm/lodash")
    range: str | None = Field(
        default=None, max_length=2000, description="A vers: range, e.g. vers:npm/<4.17.21"
    )


class BlastCriteria(Input):
    """Units are affected when they match every criterion given; resources on them when their
    tags match too."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    services: list[str] = Field(default_factory=list, max_length=200)
    regions: list[str] = Field(default_factory=list, max_length=500)
    versions: list[str] = Field(
        default_factory=list, max_length=200, description="Units running these versions."
    )
    component: ComponentCriterion | None = None
    tags_all: list[str] = Field(
        default_factory=list, max_length=50, description="Resources having all of these tags."
    )
    tags_any: list[str] = Field(
        default_factory=list, max_length=50, description="Resources having one of these tags."
    )
    tags_none: list[str] = Field(
        default_factory=list, max_length=50, description="Resources having none of these tags."
    )

    def is_empty(self) -> bool:
        return not (self.services or self.regions or self.versions or self.component)


async def _ids(
    session: AsyncSession, model: type[Service] | type[Region], keys: list[str], field: str
) -> list[int]:
    if not keys:
        return []
    found = await session.execute(select(model.key, model.id).where(model.key.in_(keys)))
    rows: dict[str, int] = dict(found.all())
    unknown = sorted(set(keys) - set(rows))
    if unknown:
        raise Invalid(f"{field}: unknown {', '.join(map(repr, unknown))}")
    return list(rows.values())


_UNITS = """
INSERT INTO blast_units (case_id, unit_id)
SELECT :case_id, u.id FROM deployment_units u
WHERE (cardinality(CAST(:services AS bigint[])) = 0
       OR u.service_id = ANY(CAST(:services AS bigint[])))
  AND (cardinality(CAST(:regions AS bigint[])) = 0
       OR u.region_id = ANY(CAST(:regions AS bigint[])))
  AND (cardinality(CAST(:versions AS text[])) = 0
       OR u.current_version = ANY(CAST(:versions AS text[])))
  AND (NOT :by_component OR (u.service_id, u.current_version) IN (
        SELECT sv.service_id, sv.version FROM components c
        JOIN service_versions sv ON sv.id = c.service_version_id
        WHERE c.purl_type = :purl_type AND c.namespace = :namespace AND c.name = :name
          AND c.version = ANY(CAST(:component_versions AS text[]))))
"""

_RESOURCE_MATCH = """
    (cardinality(CAST(:tags_all AS text[])) = 0 OR res.tags @> CAST(:tags_all AS varchar[]))
    AND (cardinality(CAST(:tags_any AS text[])) = 0 OR res.tags && CAST(:tags_any AS varchar[]))
    AND NOT (res.tags && CAST(:tags_none AS varchar[]))
"""

# One pass over the matching resources: they are collected once (MATERIALIZED), the affected
# tenants are inserted from them, and the counts by region, by service and in total come from
# the same rows (GROUPING SETS; units without a matching resource still count as units).
_SPREAD = f"""
WITH matched AS MATERIALIZED (
    SELECT res.unit_id, res.tenant_id FROM blast_units b
    JOIN resources res ON res.unit_id = b.unit_id
    WHERE b.case_id = :case_id AND {_RESOURCE_MATCH}
), kept AS (
    INSERT INTO blast_tenants (case_id, tenant_id, resources)
    SELECT :case_id, tenant_id, count(*) FROM matched GROUP BY tenant_id
)
SELECT GROUPING(r.key, s.key) AS level, r.key AS region, s.key AS service,
       count(DISTINCT b.unit_id) AS units, count(m.tenant_id) AS resources,
       count(DISTINCT m.tenant_id) AS tenants
FROM blast_units b
JOIN deployment_units u ON u.id = b.unit_id
JOIN regions r ON r.id = u.region_id
JOIN services s ON s.id = u.service_id
LEFT JOIN matched m ON m.unit_id = b.unit_id
WHERE b.case_id = :case_id
GROUP BY GROUPING SETS ((r.key), (s.key), ())
"""  # noqa: S608 - constant SQL fragments only
BY_REGION, BY_SERVICE, TOTAL = 1, 2, 3  # GROUPING(r.key, s.key): a bit per column left out


async def compute(
    session: AsyncSession, *, case_id: int, criteria: BlastCriteria, actor: str
) -> BlastRadius:
    """(Re)compute and keep a case's blast radius; the previous one is replaced."""
    if criteria.is_empty():
        raise Invalid("give at least one of services, regions, versions or a component")
    services = await _ids(session, Service, criteria.services, "services")
    regions = await _ids(session, Region, criteria.regions, "regions")
    component_key = ("", "", "")
    in_range: list[str] = []
    service_versions: list[dict[str, Any]] = []
    if criteria.component is not None:
        in_range, _, component_key = await component_versions(
            session,
            purl=criteria.component.purl,
            version_range=criteria.component.range,
            field="component.purl",
        )
    params: dict[str, Any] = {
        "case_id": case_id,
        "services": services,
        "regions": regions,
        "versions": criteria.versions,
        "by_component": criteria.component is not None,
        "purl_type": component_key[0],
        "namespace": component_key[1],
        "name": component_key[2],
        "component_versions": in_range,
        "tags_all": criteria.tags_all,
        "tags_any": criteria.tags_any,
        "tags_none": criteria.tags_none,
    }
    await session.execute(delete(BlastRadius).where(BlastRadius.case_id == case_id))
    radius = BlastRadius(
        case_id=case_id,
        criteria=criteria.model_dump(),
        units=0,
        tenants=0,
        resources=0,
        by_region=[],
        by_service=[],
        service_versions=[],
        computed_by=actor,
    )
    session.add(radius)
    await session.flush()
    await session.execute(text(_UNITS), params)
    spread = (await session.execute(text(_SPREAD), params)).all()
    by_region = _counts(spread, BY_REGION, "region")
    by_service = _counts(spread, BY_SERVICE, "service")
    if criteria.component is not None:
        rows = await session.execute(
            text(
                "SELECT s.key AS service, u.current_version AS version, count(*) AS units "
                "FROM blast_units b JOIN deployment_units u ON u.id = b.unit_id "
                "JOIN services s ON s.id = u.service_id WHERE b.case_id = :case_id "
                "GROUP BY s.key, u.current_version ORDER BY s.key, u.current_version"
            ),
            params,
        )
        service_versions = [dict(row._mapping) for row in rows]
    totals = next(row for row in spread if row.level == TOTAL)  # () yields a row even for none
    radius.units, radius.tenants = int(totals.units), int(totals.tenants)
    radius.resources = int(totals.resources)
    radius.by_region, radius.by_service = by_region, by_service
    radius.service_versions = service_versions
    await session.flush()
    await audit.record(
        session,
        subject=f"case:{case_id}",
        kind="case.blast_radius_computed",
        actor=actor,
        data={
            "criteria": criteria.model_dump(),
            "units": radius.units,
            "tenants": radius.tenants,
            "resources": radius.resources,
        },
    )
    return radius


def _counts(rows: Sequence[Row[Any]], level: int, key: str) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "key": getattr(row, key),
                "units": row.units,
                "tenants": row.tenants,
                "resources": row.resources,
            }
            for row in rows
            if row.level == level
        ),
        key=lambda item: str(item["key"]),
    )


async def get(session: AsyncSession, *, case_id: int) -> BlastRadius:
    radius = await session.get(BlastRadius, case_id)
    if radius is None:
        raise NotFound(f"case {case_id} has no blast radius yet")
    return radius


async def find(session: AsyncSession, *, case_id: int) -> BlastRadius | None:
    return await session.get(BlastRadius, case_id)


async def affected_tenants(
    session: AsyncSession, *, case_id: int, page: int = 1, per_page: int = 100
) -> Page[dict[str, Any]]:
    """The affected tenants, most resources first, a page at a time."""
    radius = await get(session, case_id=case_id)
    per_page = min(max(per_page, 1), 200)
    rows = await session.execute(
        text(
            "SELECT t.key, t.name, b.resources FROM blast_tenants b "
            "JOIN tenants t ON t.id = b.tenant_id WHERE b.case_id = :case_id "
            "ORDER BY b.resources DESC, t.key LIMIT :limit OFFSET :offset"
        ),
        {"case_id": case_id, "limit": per_page, "offset": (max(page, 1) - 1) * per_page},
    )
    return Page([dict(row._mapping) for row in rows], radius.tenants, max(page, 1), per_page)


_EXPOSED = f"""
FROM blast_units b
JOIN resources res ON res.unit_id = b.unit_id AND res.tenant_id = :tenant_id
JOIN deployment_units u ON u.id = res.unit_id
JOIN regions r ON r.id = u.region_id
JOIN services s ON s.id = u.service_id
WHERE b.case_id = :case_id AND {_RESOURCE_MATCH}
"""


async def _exposure_params(session: AsyncSession, case_id: int, tenant_id: int) -> dict[str, Any]:
    criteria = BlastCriteria.model_validate((await get(session, case_id=case_id)).criteria)
    return {
        "case_id": case_id,
        "tenant_id": tenant_id,
        "tags_all": criteria.tags_all,
        "tags_any": criteria.tags_any,
        "tags_none": criteria.tags_none,
    }


async def tenant_exposure(
    session: AsyncSession, *, case_id: int, tenant_id: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One tenant's resources in the case's blast radius (the first ``limit`` by name, with
    their unit and region) and how many there are."""
    params = {**await _exposure_params(session, case_id, tenant_id), "limit": limit}
    total = await session.scalar(text(f"SELECT count(*) {_EXPOSED}"), params)
    rows = await session.execute(
        text(
            "SELECT res.id AS resource_id, res.external_id, res.unit_id, r.key AS region, "
            f"s.key || '/' || r.key || '/' || u.scale_unit AS unit {_EXPOSED}"
            "ORDER BY res.external_id LIMIT :limit"
        ),
        params,
    )
    return [dict(row._mapping) for row in rows], int(total or 0)


async def exposed(session: AsyncSession, *, case_id: int, tenant_id: int, resource_id: int) -> bool:
    """Whether the resource is the tenant's and in the case's blast radius."""
    found = await session.scalar(
        text(f"SELECT EXISTS (SELECT 1 {_EXPOSED} AND res.id = :resource_id)"),
        {**await _exposure_params(session, case_id, tenant_id), "resource_id": resource_id},
    )
    return bool(found)


@dataclass(frozen=True)
class TenantUnit:
    """A tenant's resources on one affected unit of the case."""

    service: str
    tenant_id: int
    tenant: str
    unit_id: int
    resources: int


async def tenant_units(session: AsyncSession, *, case_id: int) -> list[TenantUnit]:
    """Every affected tenant's resources in the case's blast radius, per unit (set-based: one
    row per tenant and unit, not per resource); empty without a blast radius."""
    radius = await find(session, case_id=case_id)
    if radius is None:
        return []
    criteria = BlastCriteria.model_validate(radius.criteria)
    rows = await session.execute(
        text(
            f"""
            SELECT s.key AS service, res.tenant_id, t.name AS tenant, res.unit_id,
                   count(*) AS resources
            FROM blast_units b
            JOIN resources res ON res.unit_id = b.unit_id
            JOIN deployment_units u ON u.id = res.unit_id
            JOIN services s ON s.id = u.service_id
            JOIN tenants t ON t.id = res.tenant_id
            WHERE b.case_id = :case_id AND {_RESOURCE_MATCH}
            GROUP BY s.key, res.tenant_id, t.name, res.unit_id
            """  # noqa: S608 - our own constant
        ),
        {
            "case_id": case_id,
            "tags_all": criteria.tags_all,
            "tags_any": criteria.tags_any,
            "tags_none": criteria.tags_none,
        },
    )
    return [TenantUnit(**row._mapping) for row in rows]
