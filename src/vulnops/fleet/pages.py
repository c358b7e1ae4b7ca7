"""HTML pages of the fleet: services and their versions, regions with pairs, units, tenants and
their resources, and the class-wide component search."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError, NotFound
from vulnops.fleet import service
from vulnops.fleet.api import READ, TENANT, visible_tenant
from vulnops.tenants import service as tenants
from vulnops.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/fleet/services", response_class=HTMLResponse, dependencies=[require(READ)])
async def services_page(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request, "fleet/services.html", {"services": await service.services_overview(session)}
    )


@router.get("/fleet/services/{key}", response_class=HTMLResponse, dependencies=[require(READ)])
async def service_page(
    request: Request,
    key: Text,
    session: SessionDep,
    version: Annotated[Text, Query(max_length=100)] = "",
    region: Annotated[Text, Query(max_length=100)] = "",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = await service.get_service(session, key=key)
    units = await service.list_units(
        session, service=key, region=region or None, version=version or None, page=page
    )

    def page_url(number: int) -> str:
        return f"/fleet/services/{key}?" + urlencode(
            {"version": version, "region": region, "page": number}
        )

    return render(
        request,
        "fleet/service.html",
        {
            "service": found,
            "versions": await service.service_versions(session, service_id=found.id),
            "units": units,
            "version": version,
            "region": region,
            "page_url": page_url,
        },
    )


@router.get("/fleet/regions", response_class=HTMLResponse, dependencies=[require(READ)])
async def regions_page(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request, "fleet/regions.html", {"regions": await service.regions_overview(session)}
    )


@router.get("/fleet/tenants", response_class=HTMLResponse, dependencies=[require(READ)])
async def tenants_page(
    request: Request,
    session: SessionDep,
    q: Annotated[Text, Query(max_length=200)] = "",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = await tenants.list_tenants(session, search=q or None, page=page)

    def page_url(number: int) -> str:
        return "/fleet/tenants?" + urlencode({"q": q, "page": number})

    return render(request, "fleet/tenants.html", {"page": found, "q": q, "page_url": page_url})


@router.get("/fleet/my-tenant")
async def my_tenant(session: SessionDep, principal: Principal = require(TENANT)) -> Response:
    """A customer's way to their own tenant's page."""
    if principal.tenant_id is None:
        raise NotFound("you are not bound to a tenant")
    tenant = await tenants.get_tenant(session, tenant_id=principal.tenant_id)
    return redirect(f"/fleet/tenants/{tenant.key}")


@router.get("/fleet/tenants/{key}", response_class=HTMLResponse)
async def tenant_page(
    request: Request,
    key: Text,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(TENANT),
) -> HTMLResponse:
    tenant = await visible_tenant(session, principal, key)
    resources = await service.tenant_resources(session, tenant_id=tenant.id, page=page)
    labels = await service.unit_labels(session, unit_ids={r.unit_id for r in resources.items})

    def page_url(number: int) -> str:
        return f"/fleet/tenants/{key}?page={number}"

    return render(
        request,
        "fleet/tenant.html",
        {
            "tenant": tenant,
            "contacts": await tenants.contacts(session, tenant_id=tenant.id),
            "page": resources,
            "labels": labels,
            "page_url": page_url,
        },
    )


@router.get("/fleet/components", response_class=HTMLResponse, dependencies=[require(READ)])
async def components_page(
    request: Request,
    session: SessionDep,
    purl: Annotated[Text, Query(max_length=2000)] = "",
    range_: Annotated[Text, Query(alias="range", max_length=2000)] = "",
) -> HTMLResponse:
    match, error = None, None
    if purl:
        try:
            match = await service.services_with_component(
                session, purl=purl, version_range=range_ or None
            )
        except DomainError as problem:
            error = problem.detail
    return render(
        request,
        "fleet/components.html",
        {"purl": purl, "range": range_, "match": match, "error": error},
        status_code=422 if error else 200,
    )
