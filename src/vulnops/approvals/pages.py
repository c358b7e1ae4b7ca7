"""The approvals page: what waits for a second person, each with a link to where it is
decided (the advisory, the case's public text or disclosure, the rollout)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vulnops.approvals import service
from vulnops.approvals.api import READ
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(
    request: Request,
    session: SessionDep,
    status: Annotated[Text, Query(max_length=16)] = "pending",
    mine: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    """``mine``: what waits for the viewer's own decision."""
    chosen = service.Status(status) if status in set(service.Status) else service.Status.PENDING
    settings: Settings = request.app.state.settings
    if mine:
        chosen = service.Status.PENDING
        found = await service.waiting_for(session, viewer=principal, settings=settings, page=page)
    else:
        found = await service.list_approvals(session, viewer=principal, status=chosen, page=page)
    return render(
        request,
        "approvals.html",
        {
            "page": found,
            "status": chosen.value,
            "mine": mine,
            "statuses": [s.value for s in service.Status],
            "link": service.page_of,
            "labels": service.LABELS,
            "single_person": [
                step for step in service.Step if not service.needs_second_person(settings, step)
            ],
            "page_url": lambda number: (
                "/approvals?"
                + urlencode({"status": chosen.value, "mine": "1" if mine else "", "page": number})
            ),
        },
    )
