"""Routes of the customers' marks on their affected resources: the portal's and the API's
for the tenant, and the team's view of every tenant's progress."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from vulnops import i18n
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.errors import NotFound
from vulnops.notify import portal, resource_marks
from vulnops.notify.api import CUSTOMER, READ, tenant_of
from vulnops.notify.schemas import ResourceMarkIn, TenantProgressOut, TenantResourcesOut
from vulnops.notify.service import find
from vulnops.ui.forms import form_action

api = APIRouter(tags=["notification"])
pages = APIRouter(include_in_schema=False)


@api.get("/api/advisories/{advisory_id:int}/resources")
async def my_resources(
    advisory_id: Id, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> TenantResourcesOut:
    """Your tenant's resources the advisory is about, each with your mark."""
    return await resource_marks.tenant_resources(
        session, advisory_id=advisory_id, tenant_id=tenant_of(principal)
    )


@api.put("/api/advisories/{advisory_id:int}/resources/{resource_id:int}")
async def mark_resource(
    advisory_id: Id,
    resource_id: Id,
    body: ResourceMarkIn,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> TenantResourcesOut:
    """Mark one of them checked (done on your side) or needing help; once every one is
    checked, an advisory asking you to act stops reminding you."""
    tenant_id = tenant_of(principal)
    await resource_marks.mark(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_id,
        resource_id=resource_id,
        status=body.status,
        note=body.note,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return await resource_marks.tenant_resources(
        session, advisory_id=advisory_id, tenant_id=tenant_id
    )


@api.get("/api/cases/{case_id:int}/advisory/progress", dependencies=[require(READ)])
async def progress(
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> PageOut[TenantProgressOut]:
    """Each tenant's progress on its affected resources, those asking for help first."""
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    found = await resource_marks.progress(
        session, advisory_id=advisory.id, page=page, per_page=per_page
    )
    return PageOut[TenantProgressOut].of(found, lambda p: p)


@pages.post("/advisories/{advisory_id:int}/resources/{resource_id:int}")
async def mark_from_portal(
    request: Request,
    advisory_id: Id,
    resource_id: Id,
    session: SessionDep,
    status: Annotated[Literal["checked", "needs_help"], Form()],
    note: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(CUSTOMER),
) -> Response:
    tenant_id = tenant_of(principal)

    async def work() -> None:
        await resource_marks.mark(
            session,
            advisory_id=advisory_id,
            tenant_id=tenant_id,
            resource_id=resource_id,
            status=status,
            note=note,
            actor=principal.actor,
            now=datetime.now(UTC),
        )

    with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
        said = (
            i18n.gettext("Marked checked.")
            if status == "checked"
            else i18n.gettext("Marked: needs help.")
        )
        return await form_action(
            request, session, work, done=lambda _: said, back=f"/advisories/{advisory_id}#resources"
        )
