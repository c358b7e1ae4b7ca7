"""Imports into the inventory, all in the caller's transaction: one problem anywhere and nothing
is written. Topology is merged by key (services, regions, units are added or updated, none is
removed); tenants and resources arrive as CSV through ``COPY`` into a staging table, are checked
there in SQL (reporting CSV line numbers) and then upserted in one statement each. A CSV file has
at most :data:`MAX_CSV_LINES` lines, and each value must fit the column it goes to (the checks
below say which); one past the bounds is refused like any other problem."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.errors import Invalid
from vulnops.fleet import staging, tenant_import
from vulnops.fleet import topology as topo
from vulnops.fleet.models import Service
from vulnops.fleet.sbom import ParsedSbom
from vulnops.fleet.sbom import parse as parse_sbom

RESOURCE_COLUMNS = ("tenant", "service", "region", "scale_unit", "resource_id", "tags")
# Each check reads the staging table and returns (line, message) for every bad row
# (vulnops.fleet.staging); the lengths are those of the columns the values go to.
RESOURCE_CHECKS = [
    "SELECT line, 'resource_id: missing' FROM resources_in WHERE coalesce(resource_id, '') = ''",
    "SELECT line, 'resource_id: longer than 300 characters' FROM resources_in "
    "WHERE length(resource_id) > 300",
    "SELECT line, 'tags: more than ' || CAST(:max_items AS text) || ' tags' FROM resources_in "
    "WHERE cardinality(string_to_array(tags, ';')) > :max_items",
    "SELECT line, 'tags: a tag longer than 200 characters' FROM resources_in "
    "WHERE EXISTS (SELECT FROM unnest(string_to_array(tags, ';')) AS t WHERE length(t) > 200)",
    "SELECT i.line, 'unknown tenant ' || quote_literal(left(coalesce(i.tenant, ''), 100)) "
    "FROM resources_in i LEFT JOIN tenants t ON t.key = i.tenant WHERE t.id IS NULL",
    "SELECT i.line, 'unknown deployment unit ' || left(coalesce(i.service, '?'), 100) || '/' || "
    "left(coalesce(i.region, '?'), 100) || '/' || left(coalesce(i.scale_unit, '?'), 100) "
    "FROM resources_in i LEFT JOIN ("
    "  SELECT s.key AS service, r.key AS region, u.scale_unit FROM deployment_units u"
    "  JOIN services s ON s.id = u.service_id JOIN regions r ON r.id = u.region_id"
    ") u ON u.service = i.service AND u.region = i.region AND u.scale_unit = i.scale_unit "
    "WHERE u.service IS NULL",
    "SELECT line, 'duplicate resource ' || left(tenant, 100) || '/' || left(resource_id, 300) "
    "FROM ("
    "SELECT line, tenant, resource_id, count(*) OVER (PARTITION BY tenant, resource_id) AS n "
    "FROM resources_in) d WHERE n > 1",
]


@dataclass
class ImportSummary:
    services: int = 0
    regions: int = 0
    units: int = 0
    tenants: int = 0
    contacts: int = 0
    resources: int = 0
    sboms: int = 0


async def known_state(session: AsyncSession) -> topo.Known:
    services = frozenset(await session.scalars(select(Service.key)))
    rows = await session.execute(
        text("SELECT r.key, p.key FROM regions r LEFT JOIN regions p ON p.id = r.pair_id")
    )
    return topo.Known(services=services, regions=dict(rows.all()))


async def import_topology(
    session: AsyncSession, *, document: str, source: str, summary: ImportSummary
) -> None:
    topology, lines = topo.parse(document, source=source)
    known = await known_state(session)
    topo.check(topology, known=known, lines=lines, source=source)
    if topology.services:
        await session.execute(
            text(
                """
                INSERT INTO services (key, name, owner_team)
                SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:names AS text[]),
                                     CAST(:teams AS text[]))
                ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                                                owner_team = excluded.owner_team
                """
            ),
            {
                "keys": [s.key for s in topology.services],
                "names": [s.name for s in topology.services],
                "teams": [s.owner_team for s in topology.services],
            },
        )
        # A topology that names a service's repositories replaces them; one that names none
        # keeps those set on the service's page (or by the API).
        named = [
            {"key": s.key, "repositories": s.repositories}
            for s in topology.services
            if s.repositories
        ]
        if named:
            await session.execute(
                text(
                    """
                    UPDATE services s SET repositories = v.repositories
                    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                         AS v(key text, repositories varchar[])
                    WHERE s.key = v.key
                    """
                ),
                {"rows": json.dumps(named)},
            )
    if topology.regions:
        await session.execute(
            text(
                """
                INSERT INTO regions (key, name, geography, canary, traffic_weight)
                SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:names AS text[]),
                                     CAST(:geos AS text[]), CAST(:canaries AS boolean[]),
                                     CAST(:weights AS float8[]))
                ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                    geography = excluded.geography, canary = excluded.canary,
                    traffic_weight = excluded.traffic_weight
                """
            ),
            {
                "keys": [r.key for r in topology.regions],
                "names": [r.name for r in topology.regions],
                "geos": [r.geography for r in topology.regions],
                "canaries": [r.canary for r in topology.regions],
                "weights": [r.traffic_weight for r in topology.regions],
            },
        )
        links = topo.pair_links(topology, known)
        touched = {r.key for r in topology.regions} | {r.pair for r in topology.regions if r.pair}
        await session.execute(
            text(
                """
                UPDATE regions r SET pair_id = p.id
                FROM unnest(CAST(:keys AS text[]), CAST(:pairs AS text[])) AS x(key, pair)
                LEFT JOIN regions p ON p.key = x.pair
                WHERE r.key = x.key
                """
            ),
            {"keys": sorted(touched), "pairs": [links.get(key) for key in sorted(touched)]},
        )
    if topology.units:
        await session.execute(
            text(
                """
                INSERT INTO deployment_units (service_id, region_id, scale_unit, current_version,
                                              traffic_share, tags)
                SELECT s.id, r.id, x.scale_unit, x.version, x.share,
                       CASE WHEN x.tags = '' THEN '{}'::varchar[]
                            ELSE string_to_array(x.tags, ';')::varchar[] END
                FROM unnest(CAST(:services AS text[]), CAST(:regions AS text[]),
                            CAST(:scale_units AS text[]), CAST(:versions AS text[]),
                            CAST(:shares AS float8[]), CAST(:tags AS text[]))
                     AS x(service, region, scale_unit, version, share, tags)
                JOIN services s ON s.key = x.service
                JOIN regions r ON r.key = x.region
                ON CONFLICT (service_id, region_id, scale_unit) DO UPDATE SET
                    current_version = excluded.current_version,
                    traffic_share = excluded.traffic_share, tags = excluded.tags
                """
            ),
            {
                "services": [u.service for u in topology.units],
                "regions": [u.region for u in topology.units],
                "scale_units": [u.scale_unit for u in topology.units],
                "versions": [u.version for u in topology.units],
                "shares": [u.traffic_share for u in topology.units],
                "tags": [";".join(u.tags) for u in topology.units],
            },
        )
    summary.services += len(topology.services)
    summary.regions += len(topology.regions)
    summary.units += len(topology.units)


async def import_resources(
    session: AsyncSession, *, chunks: AsyncIterator[bytes], source: str, summary: ImportSummary
) -> None:
    await staging.copy_csv(
        session, table="resources_in", columns=RESOURCE_COLUMNS, chunks=chunks, source=source
    )
    await session.execute(text("ANALYZE resources_in"))
    await staging.problems(session, RESOURCE_CHECKS, source)
    result = await session.execute(
        text(
            """
            INSERT INTO resources (tenant_id, unit_id, external_id, tags)
            SELECT t.id, u.id, i.resource_id,
                   CASE WHEN coalesce(i.tags, '') = '' THEN '{}'::varchar[]
                        ELSE string_to_array(i.tags, ';')::varchar[] END
            FROM resources_in i
            JOIN tenants t ON t.key = i.tenant
            JOIN services s ON s.key = i.service
            JOIN regions r ON r.key = i.region
            JOIN deployment_units u ON u.service_id = s.id AND u.region_id = r.id
                                   AND u.scale_unit = i.scale_unit
            ON CONFLICT (tenant_id, external_id) DO UPDATE SET
                unit_id = excluded.unit_id, tags = excluded.tags
            """
        )
    )
    summary.resources += int(result.rowcount)  # type: ignore[attr-defined]


async def import_sbom(
    session: AsyncSession, *, service_key: str, version: str, parsed: ParsedSbom
) -> None:
    service_id = await session.scalar(select(Service.id).where(Service.key == service_key))
    if service_id is None:
        raise Invalid(f"SBOM for {service_key}@{version}: unknown service {service_key!r}")
    if not version.strip() or len(version) > 100:
        raise Invalid(f"SBOM for {service_key}: give the service version it describes")
    version_id = await session.scalar(
        text(
            """
            INSERT INTO service_versions (service_id, version, spec_version, sbom,
                                          components_without_purl)
            VALUES (:service, :version, :spec, CAST(:sbom AS jsonb), :without)
            ON CONFLICT (service_id, version) DO UPDATE SET spec_version = excluded.spec_version,
                sbom = excluded.sbom, components_without_purl = excluded.components_without_purl,
                imported_at = now()
            RETURNING id
            """
        ),
        {
            "service": service_id,
            "version": version.strip(),
            "spec": parsed.spec_version,
            "sbom": json.dumps(parsed.document),
            "without": parsed.without_purl,
        },
    )
    await session.execute(
        text("DELETE FROM components WHERE service_version_id = :id"), {"id": version_id}
    )
    if parsed.packages:
        await session.execute(
            text(
                """
                INSERT INTO components (service_version_id, purl, purl_type, namespace, name,
                                        version)
                SELECT :id, * FROM unnest(CAST(:purls AS text[]), CAST(:types AS text[]),
                                          CAST(:namespaces AS text[]), CAST(:names AS text[]),
                                          CAST(:versions AS text[]))
                """
            ),
            {
                "id": version_id,
                "purls": [p.purl for p in parsed.packages],
                "types": [p.type for p in parsed.packages],
                "namespaces": [p.namespace for p in parsed.packages],
                "names": [p.name for p in parsed.packages],
                "versions": [p.version for p in parsed.packages],
            },
        )


async def record(session: AsyncSession, *, summary: ImportSummary, actor: str) -> None:
    await audit.record(
        session,
        subject="fleet:inventory",
        kind="fleet.imported",
        actor=actor,
        data=summary.__dict__,
    )


@dataclass(frozen=True)
class SbomIn:
    service: str
    version: str
    text: str | bytes
    source: str


async def import_bundle(
    session: AsyncSession,
    *,
    actor: str,
    topology: tuple[str, str] | None = None,
    tenants: tuple[AsyncIterator[bytes], str] | None = None,
    resources: tuple[AsyncIterator[bytes], str] | None = None,
    sboms: list[SbomIn] | None = None,
) -> ImportSummary:
    """Import any of the parts, in the order they depend on each other, in one transaction."""
    summary = ImportSummary()
    if topology is not None:
        await import_topology(session, document=topology[0], source=topology[1], summary=summary)
    if tenants is not None:
        added, contacts = await tenant_import.import_tenants(
            session, chunks=tenants[0], source=tenants[1]
        )
        summary.tenants += added
        summary.contacts += contacts
    for item in sboms or []:
        parsed = parse_sbom(item.text, source=item.source)
        await import_sbom(session, service_key=item.service, version=item.version, parsed=parsed)
        summary.sboms += 1
    if resources is not None:
        await import_resources(session, chunks=resources[0], source=resources[1], summary=summary)
    await record(session, summary=summary, actor=actor)
    return summary


def sbom_target(name: str) -> tuple[str, str]:
    """``storage@2026.11.1.cdx.json`` -> (``storage``, ``2026.11.1``)."""
    stem = name.rsplit("/", 1)[-1]
    for suffix in (".cdx.json", ".json"):
        stem = stem.removesuffix(suffix)
    service, at, version = stem.partition("@")
    if not at or not service or not version:
        raise Invalid(f"{name}: name SBOM files <service>@<version>.cdx.json")
    return service, version
