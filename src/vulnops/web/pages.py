"""The start page and the API documentation page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC
from vulnops.db.deps import SessionDep
from vulnops.tenants import service as tenants
from vulnops.ui.templating import render, templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, session: SessionDep, principal: Principal | None = require(PUBLIC)
) -> HTMLResponse:
    if principal is None:
        return render(request, "landing.html")
    tenant = None
    if principal.tenant_id is not None:
        tenant = await tenants.get_tenant(session, tenant_id=principal.tenant_id)
    return render(request, "home.html", {"tenant": tenant})


@router.get("/docs", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI 5 (it reads OpenAPI 3.1) from the ``fastapi-swagger`` package, started by a
    static script."""
    return templates.TemplateResponse(request, "docs.html")
