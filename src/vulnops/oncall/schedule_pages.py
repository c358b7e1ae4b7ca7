"""A schedule's page — its coming weeks as a calendar in its zone, with overrides and gaps, and
"take this shift" / "cover for me" / remove an override — and the month's on-call report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid
from vulnops.oncall import agenda, overrides, report, service
from vulnops.oncall import schedule as pure
from vulnops.oncall.api import READ, RESPOND
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 14
COLOURS = 8  # the calendar's palette (app.css: .seg.c0 to .c7)


@router.get("/oncall/schedules/{key}", response_class=HTMLResponse)
async def schedule_page(
    key: Text,
    request: Request,
    session: SessionDep,
    start: Annotated[date | None, Query()] = None,
    days: Annotated[int, Query(ge=1, le=agenda.MAX_DAYS)] = DEFAULT_DAYS,
    principal: Principal = require(READ),
) -> HTMLResponse:
    now = datetime.now(UTC)
    first = start or now.date()
    service.within_reach(datetime.combine(first, time(), tzinfo=UTC), now=now)
    near = (
        datetime.combine(first, time(), tzinfo=UTC) - timedelta(days=1),
        datetime.combine(first, time(), tzinfo=UTC) + timedelta(days=days + 1),
    )
    service.within_reach(*near, now=now)
    stored = await service.load(session, key=key, around=near)
    first = start or now.astimezone(stored.zone).date()
    opens, closes = agenda.window(first, days, stored.zone)
    try:
        final = pure.final(stored.schedule, opens, closes, disabled=stored.disabled)
    except pure.ScheduleError as error:
        raise Invalid(f"schedule {key!r}: {error}") from None
    members = service.members(stored)
    return render(
        request,
        "oncall/schedule.html",
        {
            "stored": stored,
            "days": agenda.days(final, first, days, stored.zone),
            "gaps": final.gaps,
            "warnings": final.warnings,
            "overrides": await overrides.listed(session, key=key, after=opens, before=closes),
            "members": members,
            "colours": {user: n % COLOURS for n, user in enumerate(members)},
            "now": now,
            "first": first,
            "count": days,
            "earlier": first - timedelta(days=days),
            "later": first + timedelta(days=days),
            "can_respond": principal.can(Permission.ONCALL_RESPOND),
            "can_manage": principal.can(Permission.ONCALL_MANAGE),
        },
    )


def _back(key: str, start: datetime) -> Response:
    return redirect(f"/oncall/schedules/{key}?start={start.date().isoformat()}")


@router.post("/oncall/schedules/{key}/take")
async def take(
    key: Text,
    request: Request,
    session: SessionDep,
    at: Annotated[datetime, Form()],
    principal: Principal = require(RESPOND),
) -> Response:
    """Take the whole shift covering ``at`` yourself."""
    await overrides.take(
        session, key=key, user=principal.email, at=at, actor=principal.actor, now=datetime.now(UTC)
    )
    await session.commit()
    flash(request, "The shift is yours.", "success")
    return _back(key, at)


@router.post("/oncall/schedules/{key}/cover")
async def cover(
    key: Text,
    request: Request,
    session: SessionDep,
    at: Annotated[datetime, Form()],
    user: Annotated[Text, Form()] = "",
    principal: Principal = require(RESPOND),
) -> Response:
    """Have ``user`` cover your whole shift covering ``at``."""
    if not user:
        raise Invalid("user: choose who covers for you")
    await overrides.cover(
        session,
        key=key,
        on_call=principal.email,
        by=user,
        at=at,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    flash(request, f"{user} covers for you.", "success")
    return _back(key, at)


@router.post("/oncall/schedules/{key}/overrides/{override_id:int}/remove")
async def remove_override(
    key: Text,
    override_id: Id,
    request: Request,
    session: SessionDep,
    principal: Principal = require(RESPOND),
) -> Response:
    await overrides.remove(
        session,
        key=key,
        override_id=override_id,
        actor=principal.actor,
        may_manage=principal.can(Permission.ONCALL_MANAGE),
        now=datetime.now(UTC),
    )
    await session.commit()
    flash(request, f"Override {override_id} removed.", "success")
    return redirect(f"/oncall/schedules/{key}")


@router.get("/oncall/report", response_class=HTMLResponse, dependencies=[require(READ)])
async def report_page(
    request: Request, session: SessionDep, month: Annotated[Text, Query(max_length=7)] = ""
) -> HTMLResponse:
    wanted = month or datetime.now(UTC).strftime("%Y-%m")
    found = await report.month_report(session, month=wanted)
    before = found.start - timedelta(days=1)
    return render(
        request,
        "oncall/report.html",
        {
            "report": found,
            "earlier": before.strftime("%Y-%m"),
            "later": found.end.strftime("%Y-%m"),
        },
    )
