"""The approvals page: what waits for a second person, each with a link to where it is
decided (the advisory, the case's public text or disclosure, the rollout)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vulnops.approvals import service
from vulnops.approvals.api import READ
from vulnops.approvals.models import Approval
from vulnops.auth.deps import require
from vulnops.db.deps import SessionDep
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)


def link(approval: Approval) -> str:
    """Where the approval is decided."""
    kind, _, number = approval.subject.partition(":")
    if kind == "rollout":
        return f"/rollouts/{number}"
    anchors = {"advisory_version": "/advisory", "public_text": "#public-text"}
    return f"/cases/{approval.case_id}{anchors.get(kind, '#disclosure')}"


@router.get("/approvals", response_class=HTMLResponse, dependencies=[require(READ)])
async def approvals_page(
    request: Request,
    session: SessionDep,
    status: Annotated[str, Query(max_length=16)] = "pending",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    chosen = service.Status(status) if status in set(service.Status) else service.Status.PENDING
    found = await service.list_approvals(session, status=chosen, page=page)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "approvals.html",
        {
            "page": found,
            "status": chosen.value,
            "statuses": [s.value for s in service.Status],
            "link": link,
            "labels": service.LABELS,
            "single_person": [
                step for step in service.Step if not service.needs_second_person(settings, step)
            ],
            "page_url": lambda number: (
                "/approvals?" + urlencode({"status": chosen.value, "page": number})
            ),
        },
    )
