"""JSON API of rollouts: plan, start, operate, watch (server-sent events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.sse import EventSourceResponse, ServerSentEvent

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.database import Database
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.rollout import operations, service, snapshots
from vulnops.rollout.schemas import (
    PlanIn,
    PlanOut,
    ReasonIn,
    RolloutOut,
    RolloutSummary,
    StartIn,
)
from vulnops.settings import Settings

router = APIRouter(prefix="/api/rollouts", tags=["rollouts"])
READ = allowed(Permission.ROLLOUTS_READ)
MANAGE = allowed(Permission.ROLLOUTS_MANAGE)
APPROVE = allowed(Permission.ROLLOUTS_APPROVE)
MANAGE_OR_APPROVE = allowed(Permission.ROLLOUTS_MANAGE, Permission.ROLLOUTS_APPROVE)
STREAM_EVERY = 1.0  # seconds between looks at the database while streaming


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
async def list_rollouts(
    session: SessionDep,
    status_filter: Annotated[
        Text | None, Query(alias="status", max_length=24, description="a status, or active")
    ] = None,
    case_id: Id | None = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[RolloutSummary]:
    found = await service.list_rollouts(
        session,
        viewer=principal,
        status=status_filter,
        case_id=case_id,
        page=page,
        per_page=per_page,
    )
    return PageOut[RolloutSummary].of(found, RolloutSummary.model_validate)


@router.post("/plan")
async def plan(
    body: PlanIn, request: Request, session: SessionDep, principal: Principal = require(READ)
) -> PlanOut:
    """The stages a rollout of this fix would follow now; nothing is started."""
    shown = await service.preview(
        session,
        viewer=principal,
        fix_id=body.fix_id,
        policy_name=body.policy,
        settings=_settings(request),
    )
    return PlanOut.of(shown)


@router.post("", status_code=status.HTTP_201_CREATED)
async def start(
    body: StartIn, request: Request, session: SessionDep, principal: Principal = require(MANAGE)
) -> RolloutOut:
    """Start rolling the fix out (or wait for the named approver, when the policy asks)."""
    rollout = await service.start(
        session,
        viewer=principal,
        fix_id=body.fix_id,
        policy_name=body.policy,
        actor=principal.actor,
        settings=_settings(request),
        now=datetime.now(UTC),
        approver=body.approver,
        backend=body.backend,
        health_source=body.health_source,
    )
    await session.commit()
    return await snapshots.snapshot(session, rollout_id=rollout.id)


@router.get("/{rollout_id:int}", dependencies=[require(READ)])
async def get_rollout(rollout_id: Id, session: SessionDep) -> RolloutOut:
    return await snapshots.snapshot(session, rollout_id=rollout_id)


async def _operate(
    operation: str,
    rollout_id: int,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal,
) -> RolloutSummary:
    operate, _ = operations.named(operation)
    rollout = await operate(
        session,
        rollout_id=rollout_id,
        actor=principal.actor,
        now=datetime.now(UTC),
        reason=body.reason,
        settings=request.app.state.settings,
    )
    await session.commit()
    return RolloutSummary.model_validate((await service.described(session, [rollout]))[0])


@router.post("/{rollout_id:int}/approve")
async def approve(
    rollout_id: Id,
    request: Request,
    session: SessionDep,
    body: ReasonIn | None = None,
    principal: Principal = require(APPROVE),
) -> RolloutSummary:
    """Let an expedited rollout start: its named approver, who did not start it (four eyes)."""
    return await _operate("approve", rollout_id, body or ReasonIn(), request, session, principal)


@router.post("/{rollout_id:int}/reject")
async def reject(
    rollout_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(APPROVE),
) -> RolloutSummary:
    """Refuse an expedited rollout, with a ``reason`` (it ends, having deployed nothing)."""
    return await _operate("reject", rollout_id, body, request, session, principal)


@router.post("/{rollout_id:int}/pause")
async def pause(
    rollout_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    return await _operate("pause", rollout_id, body, request, session, principal)


@router.post("/{rollout_id:int}/resume")
async def resume(
    rollout_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    return await _operate("resume", rollout_id, body, request, session, principal)


@router.post("/{rollout_id:int}/abort")
async def abort(
    rollout_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    """Stop for good; every unit stays as it is."""
    return await _operate("abort", rollout_id, body, request, session, principal)


@router.post("/{rollout_id:int}/rollback")
async def rollback(
    rollout_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    """Return every unit the rollout changed to the version it ran before."""
    return await _operate("rollback", rollout_id, body, request, session, principal)


async def changes(database: Database, rollout_id: int) -> AsyncIterator[dict[str, Any]]:
    """The rollout's snapshot now, then each time it changes, until it is finished and shown."""
    last = None
    while True:
        async with database.session() as session:
            current = jsonable_encoder(await snapshots.snapshot(session, rollout_id=rollout_id))
        text = json.dumps(current, sort_keys=True)
        if text != last:
            last = text
            yield current
            if current["finished_at"] is not None:
                return
        await asyncio.sleep(STREAM_EVERY)


async def existing_rollout(rollout_id: Id, session: SessionDep) -> int:
    """404 for a rollout that does not exist, before a stream starts (errors cannot change a
    response already streaming); then the request's connection goes back to the pool, for a
    stream lasts minutes and must not hold one."""
    await service.get(session, rollout_id=rollout_id)
    await session.close()
    return rollout_id


@router.get(
    "/{rollout_id:int}/stream",
    response_class=EventSourceResponse,
    dependencies=[require(READ)],
)
async def stream(
    request: Request, rollout_id: Annotated[int, Depends(existing_rollout)]
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: a ``rollout`` event with the whole snapshot whenever it changes."""
    database: Database = request.app.state.db
    async for snapshot in changes(database, rollout_id):
        if await request.is_disconnected():
            return
        yield ServerSentEvent(event="rollout", data=snapshot)
