"""JSON API of the on-call: who is on call, the schedules and policies as YAML (import, export),
and pages — listed, acknowledged, resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, Input, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.errors import Invalid
from vulnops.oncall import exporter, importer, overrides, paging, report, service
from vulnops.oncall import schedule as pure
from vulnops.oncall.models import Page

router = APIRouter(prefix="/api", tags=["oncall"])
READ = allowed(Permission.ONCALL_READ)
RESPOND = allowed(Permission.ONCALL_RESPOND)
MANAGE = allowed(Permission.ONCALL_MANAGE)


class WhoOut(BaseModel):
    schedule: str
    at: datetime
    user: str | None
    source: str | None
    since: datetime
    until: datetime
    warnings: list[str]


class PageRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject: str
    urgency: str
    status: str
    source: str
    dedup_key: str
    case_id: int | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None


class ImportOut(BaseModel):
    schedules: int
    layers: int
    overrides: int
    policies: int
    steps: int


@router.get("/oncall/schedules/{key}/who", dependencies=[require(READ)])
async def who(
    key: Text, session: SessionDep, at: Annotated[datetime | None, Query()] = None
) -> WhoOut:
    """Who is on call on the schedule at ``at`` (an instant with its offset; default now)."""
    instant = at or datetime.now(UTC)
    shift, stored = await service.who(session, key=key, at=instant)
    warnings = service.warnings(stored, at=instant)
    return WhoOut(
        schedule=key,
        at=instant,
        user=shift.user,
        source=shift.source,
        since=shift.start,
        until=shift.end,
        warnings=warnings,
    )


class ShiftOut(BaseModel):
    start: datetime
    end: datetime
    user: str | None
    source: str | None


class ShiftsOut(BaseModel):
    schedule: str
    time_zone: str
    shifts: list[ShiftOut]
    gaps: list[ShiftOut]
    warnings: list[str]


class OverrideIn(Input):
    user: str = Field(min_length=3, max_length=320)
    start: datetime
    end: datetime


class OverrideOut(BaseModel):
    id: int
    schedule: str
    user: str
    start: datetime
    end: datetime


class PersonMonthOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user: str
    hours: float
    night_hours: float
    weekend_hours: float
    shifts: int
    pages: int
    acknowledged: int
    ack_median_minutes: float | None
    ack_slowest_minutes: float | None


class ReportOut(BaseModel):
    month: str
    start: datetime
    end: datetime
    people: list[PersonMonthOut]


MAX_SHIFTS_WINDOW = timedelta(days=92)


def _shift(shift: pure.Shift) -> ShiftOut:
    return ShiftOut(start=shift.start, end=shift.end, user=shift.user, source=shift.source)


@router.get("/oncall/schedules/{key}/shifts", dependencies=[require(READ)])
async def shifts(
    key: Text,
    session: SessionDep,
    start: Annotated[datetime, Query()],
    end: Annotated[datetime, Query()],
) -> ShiftsOut:
    """The final schedule over [start, end) (instants with offsets, at most 92 days): its
    shifts, the gaps among them, and its warnings."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start, end: give instants with their offsets")
    if not timedelta(0) < end - start <= MAX_SHIFTS_WINDOW:
        raise Invalid("end: the window must end after it starts, at most 92 days later")
    service.within_reach(start, end, now=datetime.now(UTC))
    stored = await service.load(session, key=key, around=(start, end))
    final = pure.final(stored.schedule, start, end, disabled=stored.disabled)
    return ShiftsOut(
        schedule=key,
        time_zone=stored.schedule.time_zone,
        shifts=[_shift(s) for s in final.shifts],
        gaps=[_shift(s) for s in final.gaps],
        warnings=list(final.warnings),
    )


@router.post("/oncall/schedules/{key}/overrides", status_code=201)
async def add_override(
    key: Text, body: OverrideIn, session: SessionDep, principal: Principal = require(MANAGE)
) -> OverrideOut:
    """``user`` takes [start, end) from whoever has it (an on-call manager's override)."""
    created = await overrides.add(
        session,
        key=key,
        user=body.user,
        start=body.start,
        end=body.end,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return OverrideOut(
        id=created.id, schedule=key, user=body.user, start=created.starts_at, end=created.ends_at
    )


@router.delete("/oncall/schedules/{key}/overrides/{override_id}", status_code=204)
async def remove_override(
    key: Text, override_id: Id, session: SessionDep, principal: Principal = require(MANAGE)
) -> Response:
    await overrides.remove(
        session,
        key=key,
        override_id=override_id,
        actor=principal.actor,
        may_manage=True,
        now=datetime.now(UTC),
    )
    await session.commit()
    return Response(status_code=204)


@router.get("/oncall/report", dependencies=[require(READ)])
async def month_report(
    session: SessionDep, month: Annotated[Text, Query(max_length=7, pattern=r"^\d{4}-\d{2}$")]
) -> ReportOut:
    """Per person over a month (UTC): hours on call, night and weekend hours, pages, time to
    acknowledge."""
    found = await report.month_report(session, month=month)
    return ReportOut(
        month=found.month,
        start=found.start,
        end=found.end,
        people=[PersonMonthOut.model_validate(p) for p in found.people],
    )


@router.get(
    "/oncall/export",
    dependencies=[require(READ)],
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
async def export(session: SessionDep) -> Response:
    """Every schedule and escalation policy as the YAML the import reads."""
    document: dict[str, Any] = await exporter.document(session)
    return Response(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
        media_type="application/yaml",
    )


@router.post("/oncall/import")
async def import_(
    request: Request, session: SessionDep, principal: Principal = require(MANAGE)
) -> ImportOut:
    """Import schedules and escalation policies (the YAML request body) — all or nothing."""
    body = await request.body()  # its size is checked where the YAML is read
    summary = await importer.import_document(
        session,
        text_=body.decode("utf-8", errors="replace"),
        source="the request body",
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return ImportOut(**summary.__dict__)


@router.get("/pages", dependencies=[require(READ)])
async def list_pages(
    session: SessionDep,
    open_only: Annotated[bool, Query(alias="open")] = True,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> PageOut[PageRowOut]:
    found = await paging.list_pages(session, open_only=open_only, page=page, per_page=per_page)
    return PageOut.of(found, PageRowOut.model_validate)


@router.post("/pages/{page_id}/acknowledge")
async def acknowledge(
    page_id: Id, request: Request, session: SessionDep, principal: Principal = require(RESPOND)
) -> PageRowOut:
    found: Page = await paging.acknowledge(
        session,
        page_id=page_id,
        actor=principal.actor,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    return PageRowOut.model_validate(found)


@router.post("/pages/{page_id}/resolve")
async def resolve(
    page_id: Id, request: Request, session: SessionDep, principal: Principal = require(RESPOND)
) -> PageRowOut:
    found = await paging.resolve(
        session,
        page_id=page_id,
        actor=principal.actor,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    return PageRowOut.model_validate(found)
