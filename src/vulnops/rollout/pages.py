"""Rollout pages: the list, one rollout live (server-sent events), and the forms that start and
operate rollouts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Forbidden
from vulnops.rollout import chart, operations, service, snapshots
from vulnops.rollout.api import MANAGE, MANAGE_OR_APPROVE, READ
from vulnops.rollout.models import Rollout
from vulnops.rollout.policy import GateRules
from vulnops.rollout.schemas import RolloutOut
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/rollouts", response_class=HTMLResponse)
async def rollouts_page(
    request: Request,
    session: SessionDep,
    status: Annotated[Text, Query(max_length=24)] = "",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    found = await service.list_rollouts(session, viewer=principal, status=status or None, page=page)
    return render(
        request,
        "rollouts/list.html",
        {
            "page": found,
            "status": status,
            "page_url": lambda number: f"/rollouts?status={status}&page={number}",
        },
    )


def _shown(snapshot: RolloutOut, rules: GateRules) -> dict[str, Any]:
    return {
        "rollout": snapshot,
        "charts": {
            stage.index: chart.charts(
                stage.history,
                error_margin=rules.error_margin,
                latency_margin=rules.latency_margin,
            )
            for stage in snapshot.stages
        },
    }


@router.get("/rollouts/{rollout_id:int}", response_class=HTMLResponse, dependencies=[require(READ)])
async def rollout_page(request: Request, rollout_id: Id, session: SessionDep) -> HTMLResponse:
    snapshot, rules = await snapshots.shown(session, rollout_id=rollout_id)
    return render(request, "rollouts/detail.html", _shown(snapshot, rules))


@router.get(
    "/rollouts/{rollout_id:int}/live", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def rollout_live(request: Request, rollout_id: Id, session: SessionDep) -> HTMLResponse:
    """The part of the rollout page that changes, for the page's script to swap in."""
    snapshot, rules = await snapshots.shown(session, rollout_id=rollout_id)
    return render(request, "rollouts/live.html", _shown(snapshot, rules))


@router.post("/rollouts")
async def start(
    request: Request,
    session: SessionDep,
    fix_id: Annotated[Id, Form()],
    policy: Annotated[Text, Form(max_length=100)] = "standard",
    approver: Annotated[Text, Form(max_length=320)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    settings: Settings = request.app.state.settings

    rollout = await service.start(
        session,
        viewer=principal,
        fix_id=fix_id,
        policy_name=policy,
        actor=principal.actor,
        settings=settings,
        now=datetime.now(UTC),
        approver=approver or None,
    )
    await session.commit()
    flash(request, f"Rollout {rollout.id} is {rollout.status.replace('_', ' ')}.", "success")
    return redirect(f"/rollouts/{rollout.id}")


@router.post("/rollouts/{rollout_id:int}/{operation}")
async def operate(
    request: Request,
    rollout_id: Id,
    operation: Text,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE_OR_APPROVE),
) -> Response:
    """Every operation and decision on a rollout, each with the permission it needs."""
    operate, needed = operations.named(operation)
    if not principal.can(needed):
        raise Forbidden(f"{operation} needs the {needed.value} permission")

    async def work() -> Rollout:
        return await operate(
            session,
            rollout_id=rollout_id,
            actor=principal.actor,
            now=datetime.now(UTC),
            reason=reason,
            settings=request.app.state.settings,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda rollout: f"The rollout is {rollout.status.replace('_', ' ')}.",
        back=f"/rollouts/{rollout_id}",
    )
