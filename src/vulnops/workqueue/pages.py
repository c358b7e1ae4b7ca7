"""The start page: a visitor's landing page, a signed-in person's work queue."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, Permission
from vulnops.db.deps import SessionDep
from vulnops.oncall import service as oncall
from vulnops.settings import Settings
from vulnops.tenants import service as tenants
from vulnops.ui.templating import render
from vulnops.workqueue.service import work_queue

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, session: SessionDep, principal: Principal | None = require(PUBLIC)
) -> HTMLResponse:
    if principal is None:
        return render(request, "landing.html")
    settings: Settings = request.app.state.settings
    tenant = None
    if principal.tenant_id is not None:
        tenant = await tenants.get_tenant(session, tenant_id=principal.tenant_id)
    now = datetime.now(UTC)
    queue = await work_queue(session, principal=principal, settings=settings, now=now)
    on_call = (
        await oncall.on_call_now(session, at=now) if principal.can(Permission.ONCALL_READ) else []
    )
    return render(request, "home.html", {"tenant": tenant, "queue": queue, "on_call": on_call})
