"""The on-call pages: who is on call now and next, the open pages with acknowledge and resolve,
and the emailed link's confirmation (no sign-in: the signed one-time link is the credential,
and only a POST acknowledges, so a mail scanner that opens links acknowledges nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError, NotFound
from vulnops.oncall import calendar, contacts, paging, service
from vulnops.oncall.api import READ, RESPOND
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/oncall", response_class=HTMLResponse)
async def oncall_page(
    request: Request, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    now = datetime.now(UTC)
    schedules = await service.on_call_now(session, at=now)
    found = await paging.list_pages(session, open_only=True, per_page=20)
    settings = request.app.state.settings
    feeds = {s.key: calendar.token(settings, f"schedule:{s.key}") for s in schedules}
    mine = calendar.token(settings, f"user:{principal.email}")
    rules = (await contacts.of_users(session, user_ids=[principal.user_id]))[principal.user_id]
    return render(
        request,
        "oncall/index.html",
        {
            "schedules": schedules,
            "pages": found,
            "now": now,
            "feeds": feeds,
            "mine": mine,
            "rules": rules,
            "default_rules": rules == contacts.DEFAULT,
            "host_of": contacts.host_of,
        },
    )


@router.get("/oncall/feeds/schedules/{key}.ics", dependencies=[require(PUBLIC)])
async def schedule_feed(
    key: Text, request: Request, session: SessionDep, token: Annotated[Text, Query()] = ""
) -> Response:
    """A schedule's iCalendar feed, for whoever has its secret URL (404 without it)."""
    settings = request.app.state.settings
    if not calendar.valid(settings, f"schedule:{key}", token):
        raise NotFound("no such feed")
    now = datetime.now(UTC)
    stored = await service.load(session, key=key, around=calendar.window(now))
    body = calendar.feed(stored.name or key, [stored], now=now)
    return Response(body, media_type="text/calendar")


@router.get("/oncall/feeds/people/{email}.ics", dependencies=[require(PUBLIC)])
async def person_feed(
    email: Text, request: Request, session: SessionDep, token: Annotated[Text, Query()] = ""
) -> Response:
    """One person's shifts on every schedule, for whoever has the secret URL."""
    settings = request.app.state.settings
    if not calendar.valid(settings, f"user:{email}", token):
        raise NotFound("no such feed")
    now = datetime.now(UTC)
    stored = await service.load_many(session, around=calendar.window(now))
    body = calendar.feed(f"On call: {email}", stored, now=now, user=email)
    return Response(body, media_type="text/calendar")


@router.get("/pages", response_class=HTMLResponse, dependencies=[require(READ)])
async def pages_page(
    request: Request,
    session: SessionDep,
    every: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = await paging.list_pages(session, open_only=not every, page=page)

    def page_url(number: int) -> str:
        return f"/pages?page={number}" + ("&every=1" if every else "")

    return render(
        request, "oncall/pages.html", {"pages": found, "every": every, "page_url": page_url}
    )


@router.post("/pages/{page_id:int}/{operation}")
async def operate(
    request: Request,
    page_id: Id,
    operation: Text,
    session: SessionDep,
    principal: Principal = require(RESPOND),
) -> Response:
    now, settings = datetime.now(UTC), request.app.state.settings
    if operation == "acknowledge":
        await paging.acknowledge(
            session, page_id=page_id, actor=principal.actor, now=now, settings=settings, via="page"
        )
    elif operation == "resolve":
        await paging.resolve(
            session, page_id=page_id, actor=principal.actor, now=now, settings=settings
        )
    else:
        flash(request, f"There is no {operation!r} for a page.", "error")
        return redirect("/pages")
    await session.commit()
    flash(request, f"Page #{page_id} {operation}d.", "success")
    return redirect("/pages")


@router.get("/pages/ack", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def ack_link(
    request: Request, token: Annotated[Text, Query(max_length=500)] = ""
) -> HTMLResponse:
    """The emailed link: a button that acknowledges (the GET itself changes nothing)."""
    return render(request, "oncall/ack.html", {"token": token, "done": None, "error": None})


@router.post("/pages/ack", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def ack_by_link(
    request: Request, session: SessionDep, token: Annotated[Text, Form(max_length=500)] = ""
) -> HTMLResponse:
    try:
        page = await paging.acknowledge_by_link(
            session, token=token, settings=request.app.state.settings, now=datetime.now(UTC)
        )
    except DomainError as error:
        return render(
            request,
            "oncall/ack.html",
            {"token": "", "done": None, "error": error.detail},
            status_code=error.status,
        )
    await session.commit()
    return render(request, "oncall/ack.html", {"token": "", "done": page.id, "error": None})
