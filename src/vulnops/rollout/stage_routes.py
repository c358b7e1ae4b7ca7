"""The stage operations (:mod:`~vulnops.rollout.stage_operations`) over the API and from the
rollout's page. Stages are numbered from 1, as every page and message names them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.db.bounded import Id, Input, Text
from vulnops.db.deps import SessionDep
from vulnops.rollout import service, stage_operations
from vulnops.rollout.api import MANAGE, MANAGE_OR_APPROVE
from vulnops.rollout.models import Rollout
from vulnops.rollout.schemas import RolloutSummary
from vulnops.ui.forms import form_action

api = APIRouter(prefix="/api/rollouts", tags=["rollouts"])
pages = APIRouter(include_in_schema=False)
MAX_STAGES = 100


class StageReasonIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(max_length=2000)


class ExtendIn(StageReasonIn):
    minutes: int = Field(ge=1, le=24 * 60, description="How much longer the stage may hold.")


StageNumber = Annotated[int, Field(ge=1, le=MAX_STAGES)]


def _can(principal: Principal) -> frozenset[Permission]:
    return frozenset(p for p in Permission if principal.can(p))


async def _summary(session: SessionDep, rollout: Rollout) -> RolloutSummary:
    return RolloutSummary.model_validate((await service.described(session, [rollout]))[0])


@api.post("/{rollout_id:int}/stages/{number}/pass")
async def pass_stage(
    rollout_id: Id,
    number: StageNumber,
    body: StageReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE_OR_APPROVE),
) -> RolloutSummary:
    """Pass a baking stage by hand, with a reason (a second person under the policy's
    ``hand_override: second_person``: rollouts:approve, not the rollout's starter)."""
    rollout = await stage_operations.pass_stage(
        session,
        rollout_id=rollout_id,
        stage=number - 1,
        actor=principal.actor,
        can=_can(principal),
        reason=body.reason,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    return await _summary(session, rollout)


@api.post("/{rollout_id:int}/stages/{number}/extend")
async def extend_stage(
    rollout_id: Id,
    number: StageNumber,
    body: ExtendIn,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    """Give a holding stage ``minutes`` more before it alerts or reaches ``max_hold``."""
    rollout = await stage_operations.extend_stage(
        session,
        rollout_id=rollout_id,
        stage=number - 1,
        by=timedelta(minutes=body.minutes),
        actor=principal.actor,
        reason=body.reason,
        now=datetime.now(UTC),
    )
    await session.commit()
    return await _summary(session, rollout)


@api.post("/{rollout_id:int}/units/{unit_id:int}/exclude")
async def exclude_unit(
    rollout_id: Id,
    unit_id: Id,
    body: StageReasonIn,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RolloutSummary:
    """Leave a unit out of the gates' evidence (its crashes still count); the baking stages
    gather their evidence again without it."""
    rollout = await stage_operations.exclude_unit(
        session,
        rollout_id=rollout_id,
        unit_id=unit_id,
        actor=principal.actor,
        reason=body.reason,
        now=datetime.now(UTC),
    )
    await session.commit()
    return await _summary(session, rollout)


async def _form(
    request: Request,
    session: SessionDep,
    rollout_id: int,
    work: Callable[[], Awaitable[Rollout]],
    done: str,
) -> Response:
    return await form_action(
        request, session, work, done=lambda _: done, back=f"/rollouts/{rollout_id}"
    )


@pages.post("/rollouts/{rollout_id:int}/stages/{number:int}/pass")
async def pass_stage_form(
    request: Request,
    rollout_id: Id,
    number: StageNumber,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE_OR_APPROVE),
) -> Response:
    async def work() -> Rollout:
        return await stage_operations.pass_stage(
            session,
            rollout_id=rollout_id,
            stage=number - 1,
            actor=principal.actor,
            can=_can(principal),
            reason=reason,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )

    return await _form(request, session, rollout_id, work, f"Stage {number} passed by hand.")


@pages.post("/rollouts/{rollout_id:int}/stages/{number:int}/extend")
async def extend_stage_form(
    request: Request,
    rollout_id: Id,
    number: StageNumber,
    session: SessionDep,
    minutes: Annotated[int, Form(ge=1, le=24 * 60)] = 60,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> Rollout:
        return await stage_operations.extend_stage(
            session,
            rollout_id=rollout_id,
            stage=number - 1,
            by=timedelta(minutes=minutes),
            actor=principal.actor,
            reason=reason,
            now=datetime.now(UTC),
        )

    return await _form(
        request, session, rollout_id, work, f"Stage {number} may hold {minutes} minutes more."
    )


@pages.post("/rollouts/{rollout_id:int}/units/exclude")
async def exclude_unit_form(
    request: Request,
    rollout_id: Id,
    session: SessionDep,
    unit: Annotated[Id, Form()],
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    unit_id = unit

    async def work() -> Rollout:
        return await stage_operations.exclude_unit(
            session,
            rollout_id=rollout_id,
            unit_id=unit_id,
            actor=principal.actor,
            reason=reason,
            now=datetime.now(UTC),
        )

    return await _form(
        request, session, rollout_id, work, f"Unit {unit_id} is left out of the evidence."
    )
