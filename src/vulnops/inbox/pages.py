"""The demo inbox's pages (administrators: what the demo sent) and its webhook receiver. With
the inbox off, the receiver answers 404 and the page says how to turn it on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC, Permission, allowed
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid, NotFound
from vulnops.inbox import service
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)
READ = allowed(Permission.USERS_MANAGE)
# A webhook body larger than this is refused (ours are a few kB).
MAX_WEBHOOK = 1_000_000
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


def _on(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.demo_inbox


@router.post("/inbox/webhooks/{tenant_key}", dependencies=[require(PUBLIC)], status_code=204)
async def receive_webhook(request: Request, tenant_key: Text, session: SessionDep) -> Response:
    """A tenant's webhook endpoint in the demo: keep the call, answer 204."""
    if not _on(request):
        raise NotFound("the demo inbox is off (VULNOPS_DEMO_INBOX)")
    body = await request.body()
    if len(body) > MAX_WEBHOOK:
        raise Invalid(f"the body is over {MAX_WEBHOOK:,} bytes")
    text = body.decode(errors="replace")
    try:
        shown = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        subject = str(json.loads(text).get("type", ""))
    except (ValueError, AttributeError):
        shown, subject = text, ""
    await service.record(
        session,
        channel="webhook",
        sender=request.client.host if request.client else "",
        recipient=str(request.url.path),
        subject=subject,
        body=shown,
        headers={k: request.headers[k] for k in KEPT_HEADERS if k in request.headers},
        now=datetime.now(UTC),
    )
    await session.commit()
    return Response(status_code=204)


@router.get("/inbox", response_class=HTMLResponse, dependencies=[require(READ)])
async def inbox_page(
    request: Request,
    session: SessionDep,
    channel: Annotated[Text, Query(pattern="^(|email|webhook)$")] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    found = await service.list_messages(session, channel=channel or None, page=page)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "inbox/list.html",
        {
            "on": settings.demo_inbox,
            "smtp_port": settings.demo_smtp_port,
            "page": found,
            "channel": channel,
            "page_url": lambda number: f"/inbox?channel={channel}&page={number}",
        },
    )


@router.get("/inbox/{message_id:int}", response_class=HTMLResponse, dependencies=[require(READ)])
async def message_page(request: Request, message_id: Id, session: SessionDep) -> HTMLResponse:
    message = await service.get_message(session, message_id=message_id)
    return render(request, "inbox/message.html", {"message": message})
