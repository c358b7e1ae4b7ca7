"""JSON API of the fleet inventory, its imports and exports, and a case's blast radius."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Query, Request, UploadFile, status
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.cases import service as cases
from vulnops.db.bounded import Id, PageNumber, Text, file_name
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.diskspace import ensure_upload_room
from vulnops.errors import NotFound
from vulnops.fleet import blast, exporter, importer, service
from vulnops.parsing_limits import MAX_DOCUMENT_BYTES, MAX_YAML_BYTES, read_bounded
from vulnops.tenants import service as tenants
from vulnops.tenants.models import Tenant

router = APIRouter(prefix="/api", tags=["fleet"])
READ = allowed(Permission.FLEET_READ)
CASE_BLAST = allowed(Permission.CASES_READ)  # a case's blast radius is the case's to read
MANAGE = allowed(Permission.FLEET_MANAGE)
TENANT = allowed(Permission.FLEET_READ, Permission.TENANT_OWN)
CHUNK = 1024 * 1024
# Fleet imports are large (1M resources are ~60 MB of CSV) and are
# streamed into COPY, so this one route takes far larger bodies than the application's limit.
IMPORT_MAX_BYTES = 2**30


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    service: str
    region: str
    scale_unit: str
    current_version: str
    traffic_share: float
    tags: list[str]


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    unit_id: int
    unit: str = ""
    tags: list[str]


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str


class ImportOut(BaseModel):
    services: int
    regions: int
    units: int
    tenants: int
    contacts: int
    resources: int
    sboms: int


class BlastOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: int
    criteria: dict[str, Any]
    units: int
    tenants: int
    resources: int
    by_region: list[dict[str, Any]]
    by_service: list[dict[str, Any]]
    service_versions: list[dict[str, Any]]
    computed_by: str
    computed_at: datetime


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


async def visible_tenant(session: SessionDep, principal: Principal, key: str) -> Tenant:
    """Staff see every tenant; a customer only their own (anything else is a 404)."""
    tenant = await tenants.get_tenant_by_key(session, key=key)
    if not principal.can(Permission.FLEET_READ) and tenant.id != principal.tenant_id:
        raise NotFound(f"no tenant with key {key!r}")
    return tenant


@router.get("/fleet/services", dependencies=[require(READ)])
async def list_services(session: SessionDep) -> list[dict[str, Any]]:
    """Every service, its units and regions, and how many units run each version."""
    return await service.services_overview(session)


@router.get("/fleet/services/{key}", dependencies=[require(READ)])
async def get_service(key: Text, session: SessionDep) -> dict[str, Any]:
    found = await service.get_service(session, key=key)
    return {
        "key": found.key,
        "name": found.name,
        "owner_team": found.owner_team,
        "versions": await service.service_versions(session, service_id=found.id),
    }


@router.get(
    "/fleet/services/{key}/versions/{version}/sbom",
    dependencies=[require(READ)],
    response_class=Response,
    responses={200: {"content": {"application/vnd.cyclonedx+json": {}}}},
)
async def get_sbom(key: Text, version: Text, session: SessionDep) -> Response:
    document = await service.sbom(session, service_key=key, version=version)
    return Response(
        json.dumps(document, indent=1),
        media_type="application/vnd.cyclonedx+json",
        headers={"Content-Disposition": f'attachment; filename="{key}@{version}.cdx.json"'},
    )


@router.put("/fleet/services/{key}/versions/{version}/sbom")
async def put_sbom(
    key: Text,
    version: Text,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> ImportOut:
    """Import the CycloneDX JSON SBOM (the request body) of a service version."""
    ensure_upload_room(request)
    summary = await importer.import_bundle(
        session,
        actor=principal.actor,
        sboms=[
            importer.SbomIn(
                service=key, version=version, text=await request.body(), source="request body"
            )
        ],
    )
    await session.commit()
    return ImportOut(**summary.__dict__)


@router.get("/fleet/regions", dependencies=[require(READ)])
async def list_regions(session: SessionDep) -> list[dict[str, Any]]:
    return await service.regions_overview(session)


@router.get("/fleet/units", dependencies=[require(READ)])
async def list_units(
    session: SessionDep,
    service_key: Annotated[Text | None, Query(alias="service", max_length=100)] = None,
    region: Annotated[Text | None, Query(max_length=100)] = None,
    version: Annotated[Text | None, Query(max_length=100)] = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
) -> PageOut[UnitOut]:
    units = await service.list_units(
        session, service=service_key, region=region, version=version, page=page, per_page=per_page
    )
    return PageOut[UnitOut].of(units, UnitOut.model_validate)


@router.get("/fleet/tenants", dependencies=[require(READ)])
async def list_tenants(
    session: SessionDep,
    q: Annotated[Text | None, Query(max_length=200)] = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> PageOut[TenantOut]:
    found = await tenants.list_tenants(session, search=q, page=page, per_page=per_page)
    return PageOut[TenantOut].of(found, TenantOut.model_validate)


@router.get("/fleet/tenants/{key}/resources")
async def tenant_resources(
    key: Text,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
    principal: Principal = require(TENANT),
) -> PageOut[ResourceOut]:
    """A tenant's resources (customers: their own tenant's only)."""
    tenant = await visible_tenant(session, principal, key)
    found = await service.tenant_resources(
        session, tenant_id=tenant.id, page=page, per_page=per_page
    )
    labels = await service.unit_labels(session, unit_ids={r.unit_id for r in found.items})
    return PageOut[ResourceOut].of(
        found,
        lambda resource: ResourceOut(
            id=resource.id,
            external_id=resource.external_id,
            unit_id=resource.unit_id,
            unit=labels.get(resource.unit_id, ""),
            tags=list(resource.tags),
        ),
    )


@router.post("/fleet/import", status_code=status.HTTP_201_CREATED, max_body_size=IMPORT_MAX_BYTES)
async def import_fleet(
    request: Request,
    session: SessionDep,
    topology: Annotated[UploadFile | None, File(description="topology YAML or JSON")] = None,
    tenants_csv: Annotated[UploadFile | None, File(alias="tenants")] = None,
    resources_csv: Annotated[UploadFile | None, File(alias="resources")] = None,
    sbom: Annotated[
        list[UploadFile] | None, File(description="files named <service>@<version>.cdx.json")
    ] = None,
    principal: Principal = require(MANAGE),
) -> ImportOut:
    """Import any of topology, tenants CSV, resources CSV and SBOMs — all or nothing."""
    ensure_upload_room(request)
    sboms = []
    for upload in sbom or []:
        name = file_name(upload.filename, "sbom")
        target_service, target_version = importer.sbom_target(name)
        sboms.append(
            importer.SbomIn(
                service=target_service,
                version=target_version,
                text=await read_bounded(upload, max_bytes=MAX_DOCUMENT_BYTES, source=name),
                source=name,
            )
        )
    topology_in = None
    if topology is not None:
        source = file_name(topology.filename, "topology")
        data = await read_bounded(topology, max_bytes=MAX_YAML_BYTES, source=source)
        topology_in = (data.decode("utf-8", "replace"), source)
    summary = await importer.import_bundle(
        session,
        actor=principal.actor,
        topology=topology_in,
        tenants=(upload_chunks(tenants_csv), file_name(tenants_csv.filename, "tenants.csv"))
        if tenants_csv
        else None,
        resources=(upload_chunks(resources_csv), file_name(resources_csv.filename, "resources.csv"))
        if resources_csv
        else None,
        sboms=sboms,
    )
    await session.commit()
    return ImportOut(**summary.__dict__)


@router.get(
    "/fleet/export/topology",
    dependencies=[require(READ)],
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}, "application/json": {}}}},
)
async def export_topology(session: SessionDep, format: Text = "yaml") -> Response:
    document = await exporter.topology(session)
    if format == "json":
        return Response(json.dumps(document, indent=1), media_type="application/json")
    return Response(yaml.safe_dump(document, sort_keys=False), media_type="application/yaml")


@router.get(
    "/fleet/export/tenants.csv", dependencies=[require(READ)], response_class=StreamingResponse
)
async def export_tenants(session: SessionDep) -> StreamingResponse:
    return StreamingResponse(
        exporter.copy_out(session, exporter.TENANTS_COPY), media_type="text/csv"
    )


@router.get(
    "/fleet/export/resources.csv", dependencies=[require(READ)], response_class=StreamingResponse
)
async def export_resources(session: SessionDep) -> StreamingResponse:
    return StreamingResponse(
        exporter.copy_out(session, exporter.RESOURCES_COPY), media_type="text/csv"
    )


@router.get("/fleet/components", dependencies=[require(READ)])
async def components(
    session: SessionDep,
    purl: Annotated[Text, Query(min_length=5, max_length=2000, description="pkg:type/ns/name")],
    range_: Annotated[
        Text | None, Query(alias="range", max_length=2000, description="vers: range")
    ] = None,
) -> dict[str, Any]:
    """Which services, and which of their versions, contain this package in this range — and
    how many units run them now. The start of variant hunting."""
    match = await service.services_with_component(session, purl=purl, version_range=range_)
    return match.__dict__


@router.put("/cases/{case_id:int}/blast-radius", tags=["cases"])
async def compute_blast_radius(
    case_id: Id,
    body: blast.BlastCriteria,
    session: SessionDep,
    principal: Principal = require(allowed(Permission.CASES_MANAGE)),
) -> BlastOut:
    """(Re)compute what the case touches, from its criteria, and keep it with the case."""
    await cases.get_case(session, case_id=case_id)
    radius = await blast.compute(session, case_id=case_id, criteria=body, actor=principal.actor)
    await session.commit()
    return BlastOut.model_validate(radius)


@router.get(
    "/cases/{case_id:int}/blast-radius",
    tags=["cases"],
    dependencies=[require(CASE_BLAST)],
)
async def get_blast_radius(case_id: Id, session: SessionDep) -> BlastOut:
    return BlastOut.model_validate(await blast.get(session, case_id=case_id))


@router.get(
    "/cases/{case_id:int}/blast-radius/tenants",
    tags=["cases"],
    dependencies=[require(CASE_BLAST)],
)
async def affected_tenants(
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
) -> PageOut[dict[str, Any]]:
    found = await blast.affected_tenants(session, case_id=case_id, page=page, per_page=per_page)
    return PageOut[dict[str, Any]].of(found, dict)
