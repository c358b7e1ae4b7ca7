"""The event log page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vulnops.audit import service
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.ui.templating import render
from vulnops.web import need_to_know

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: SessionDep,
    subject: Annotated[Text, Query(max_length=200)] = "",
    kind: Annotated[Text, Query(max_length=100)] = "",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    verify: bool = False,
    principal: Principal = require(allowed(Permission.AUDIT_READ)),
) -> HTMLResponse:
    events = await service.list_events(
        session,
        subject=subject or None,
        kind=kind or None,
        exclude_subjects=need_to_know.hidden_subjects(principal),
        page=page,
    )
    can_verify = principal.can(Permission.AUDIT_VERIFY)
    result = await service.verify(session) if verify and can_verify else None

    def page_url(number: int) -> str:
        return "/audit?" + urlencode({"subject": subject, "kind": kind, "page": number})

    return render(
        request,
        "audit.html",
        {
            "page": events,
            "subject": subject,
            "kind": kind,
            "verify": result,
            "can_verify": can_verify,
            "page_url": page_url,
        },
    )
