"""Where detection systems send alerts: PagerDuty Events API v2 (the integration key is the
event's ``routing_key``) and Alertmanager's webhook (the key in the URL, ``?key=`` — a bearer
token would be read as an API token). No sign-in: the integration key is the credential."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.db.bounded import Text
from vulnops.db.deps import SessionDep
from vulnops.oncall import alerts

router = APIRouter(prefix="/api/alerts", tags=["alerts"], dependencies=[require(PUBLIC)])


@router.post("/pagerduty/v2/enqueue", status_code=202)
async def pagerduty(
    event: alerts.PagerDutyEvent, request: Request, session: SessionDep
) -> dict[str, Any]:
    """A PagerDuty Events API v2 event; answered as PagerDuty answers (202, the dedup key)."""
    now, settings = datetime.now(UTC), request.app.state.settings
    source = await alerts.authenticate(
        session, secret=event.routing_key, kind="pagerduty", now=now, settings=settings
    )
    await session.commit()  # the event is counted even when it is refused below
    handled = await alerts.pagerduty(session, source, event, now=now, settings=settings)
    await session.commit()
    return {
        "status": "success",
        "message": f"Event processed: {handled.action}",
        "dedup_key": handled.dedup_key,
    }


@router.post("/alertmanager", response_class=JSONResponse)
async def alertmanager(
    webhook: alerts.AlertmanagerWebhook,
    request: Request,
    session: SessionDep,
    key: Annotated[Text, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """An Alertmanager webhook (a group of alerts): each alert is one page."""
    now, settings = datetime.now(UTC), request.app.state.settings
    source = await alerts.authenticate(
        session, secret=key, kind="alertmanager", now=now, settings=settings
    )
    await session.commit()
    handled = await alerts.alertmanager(session, source, webhook, now=now, settings=settings)
    await session.commit()
    return {
        "alerts": [
            {"dedup_key": h.dedup_key, "page_id": h.page_id, "action": h.action} for h in handled
        ]
    }
