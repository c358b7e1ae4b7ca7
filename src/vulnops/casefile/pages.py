"""The case page's overview, the new-case form, the blast radius form and the affected
tenants (the other tabs are in ``tabs.py``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.approvals import service as approvals
from vulnops.auth import service as users
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.casefile.next_step import Facts, next_steps
from vulnops.casefile.sections import CaseSections, readable_sections
from vulnops.casefile.tabs import header
from vulnops.cases import milestones, team
from vulnops.cases import service as cases
from vulnops.cases.api import MANAGE, READ
from vulnops.cases.models import Case
from vulnops.cases.states import (
    ENDED,
    HAND_LABELS,
    RECORDED_BY,
    Milestone,
    moves_open,
    reached_any,
)
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError, Invalid
from vulnops.fleet import blast
from vulnops.intake import service as intake
from vulnops.settings import Settings
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
BREAK_GLASS = allowed(Permission.USERS_MANAGE)  # administrators


@router.get("/cases/{case_id:int}", response_class=HTMLResponse)
async def case_page(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    """The case's overview: what it needs next, each area the caller may read at a glance, its
    deadlines, milestones and the decisions open to a person."""
    now = datetime.now(UTC)
    settings: Settings = request.app.state.settings
    case = await cases.get_case(session, case_id=case_id)
    found = await readable_sections(
        session, principal=principal, case_id=case.id, settings=settings, now=now
    )
    staff = await users.assignable(session)
    reached = await milestones.reached(session, case_id=case.id)
    return render(
        request,
        "cases/overview.html",
        {
            **header(case, "overview", now),
            "steps": next_steps(_facts(case, reached, found)),
            "sections": found,
            "team": await team.members(session, case=case),
            "approval_page": approvals.page_of,
            "milestones": reached,
            "all_milestones": list(Milestone),
            "recorded_by": RECORDED_BY,
            "moves": [(state, HAND_LABELS[state]) for state in moves_open(reached)],
            "ended": reached_any(reached, ENDED),
            "staff": staff,
            "names": {user.id: user.display_name or user.email for user in staff},
        },
    )


def _facts(case: Case, reached: Collection[Milestone], found: CaseSections) -> Facts:
    """What the next step is decided from; a section the caller may not read counts as absent
    (its steps are someone else's)."""
    radius = found.blast.radius if found.blast else None
    fixes = found.fixes.fixes if found.fixes else []
    newest = found.rollouts.newest if found.rollouts else []
    overview = found.advisory.overview if found.advisory else None
    disclosed = found.disclosure.state if found.disclosure else None
    return Facts(
        case_id=case.id,
        reached=reached,
        rated=case.rating is not None,
        blast_computed=radius is not None,
        tenants_affected=radius.tenants if radius else 0,
        fixes=len(fixes),
        fixes_ready=sum(fix.ready for fix in fixes),
        rollout_id=newest[0]["id"] if newest else None,
        rollout_status=newest[0]["status"] if newest else None,
        advisory_status=overview["versions"][-1]["status"] if overview else None,
        advisory_readable=found.advisory is not None,
        public_text=disclosed is not None and disclosed.public_text is not None,
        public_text_waiting=disclosed is not None and disclosed.public_text_draft is not None,
        disclosure_asked=disclosed is not None and disclosed.requested_by is not None,
        disclosure_approved=disclosed is not None and disclosed.disclosed_at is not None,
    )


@router.get(
    "/cases/{case_id:int}/tenants", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def affected_tenants_page(
    request: Request,
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The tenants in a case's blast radius, most affected resources first."""
    case = await cases.get_case(session, case_id=case_id)
    found = await blast.affected_tenants(session, case_id=case.id, page=page, per_page=100)
    return render(
        request,
        "cases/affected_tenants.html",
        {
            "case": case,
            "page": found,
            "page_url": lambda number: f"/cases/{case.id}/tenants?page={number}",
        },
    )


@router.get("/cases/new", response_class=HTMLResponse)
async def new_case_form(
    request: Request,
    session: SessionDep,
    report: Annotated[list[Id] | None, Query()] = None,
    principal: Principal = require(MANAGE),
) -> HTMLResponse:
    sources = [
        await intake.visible_report(session, principal=principal, report_id=report_id)
        for report_id in report or []
    ]
    return render(
        request,
        "cases/new.html",
        {"sources": sources, "staff": await users.assignable(session), "error": None, "values": {}},
    )


@router.post("/cases/new", response_model=None)
async def open_case(
    request: Request,
    session: SessionDep,
    title: Annotated[Text, Form()] = "",
    summary: Annotated[Text, Form(max_length=100_000)] = "",
    services: Annotated[Text, Form(max_length=5000)] = "",
    owner_id: Annotated[Text, Form()] = "",
    reports: Annotated[Text, Form(max_length=5000)] = "",
    restricted: Annotated[Text, Form(max_length=1)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    settings: Settings = request.app.state.settings
    values = {
        "title": title,
        "summary": summary,
        "services": services,
        "reports": reports,
        "restricted": restricted,
    }
    try:
        report_ids = [
            (
                await intake.visible_by_tracking_id(session, principal=principal, tracking_id=token)
            ).id
            for token in reports.replace(",", " ").split()
        ]
        if len(title.strip()) < 3:
            raise Invalid("title: at least 3 characters")
        case, _ = await intake.open_case_from_reports(
            session,
            principal=principal,
            title=title,
            summary=summary,
            services=services.replace(",", " ").split(),
            report_ids=report_ids,
            owner_id=int(owner_id) if owner_id.isdigit() else None,
            responder_id=principal.user_id if principal.can(Permission.CASES_MANAGE) else None,
            restricted=True if restricted else None,
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    except DomainError as error:
        await session.rollback()
        return render(
            request,
            "cases/new.html",
            {
                "sources": [],
                "staff": await users.assignable(session),
                "error": error.detail,
                "values": values,
            },
            status_code=error.status,
        )
    flash(request, f"Case {case.tracking_id} opened.", "success")
    return redirect(f"/cases/{case.id}")


def _words(value: str) -> list[str]:
    return [word for word in value.replace(",", " ").split() if word]


@router.post("/cases/{case_id:int}/blast-radius")
async def compute_blast_radius(
    request: Request,
    case_id: Id,
    session: SessionDep,
    services: Annotated[Text, Form(max_length=5000)] = "",
    regions: Annotated[Text, Form(max_length=20000)] = "",
    versions: Annotated[Text, Form(max_length=5000)] = "",
    purl: Annotated[Text, Form(max_length=2000)] = "",
    version_range: Annotated[Text, Form(alias="range", max_length=2000)] = "",
    tags_all: Annotated[Text, Form(max_length=2000)] = "",
    tags_any: Annotated[Text, Form(max_length=2000)] = "",
    tags_none: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    case = await cases.get_case(session, case_id=case_id)
    criteria = blast.BlastCriteria(
        services=_words(services),
        regions=_words(regions),
        versions=_words(versions),
        component=blast.ComponentCriterion(purl=purl, range=version_range or None)
        if purl.strip()
        else None,
        tags_all=_words(tags_all),
        tags_any=_words(tags_any),
        tags_none=_words(tags_none),
    )
    radius = await blast.compute(session, case_id=case.id, criteria=criteria, actor=principal.actor)
    await session.commit()
    flash(
        request,
        f"Blast radius: {radius.units} units, {radius.tenants} tenants, "
        f"{radius.resources} resources.",
        "success",
    )
    return redirect(f"/cases/{case_id}/blast-radius")


@router.post("/cases/{case_id:int}/team")
async def set_team(
    request: Request,
    case_id: Id,
    session: SessionDep,
    members: Annotated[list[Id] | None, Form()] = None,
    restricted: Annotated[Text, Form(max_length=1)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    case = await cases.get_case(session, case_id=case_id)
    try:
        await team.set_team(
            session,
            case=case,
            restricted=bool(restricted),
            member_ids=members or [],
            principal=principal,
        )
    except DomainError as error:
        await session.rollback()
        flash(request, error.detail, "error")
        return redirect(f"/cases/{case_id}#team")
    await session.commit()
    flash(request, "The team is saved.", "success")
    return redirect(f"/cases/{case_id}#team")


@router.get("/cases/break-glass", response_class=HTMLResponse)
async def break_glass_form(
    request: Request, principal: Principal = require(BREAK_GLASS)
) -> HTMLResponse:
    return render(request, "cases/break_glass.html", {"error": None, "values": {}})


@router.post("/cases/break-glass", response_model=None)
async def break_glass(
    request: Request,
    session: SessionDep,
    tracking_id: Annotated[Text, Form(max_length=40)] = "",
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(BREAK_GLASS),
) -> Response:
    try:
        case = await team.break_glass(
            session,
            tracking_id=tracking_id.strip(),
            reason=reason,
            principal=principal,
            settings=request.app.state.settings,
        )
    except DomainError as error:
        await session.rollback()
        return render(
            request,
            "cases/break_glass.html",
            {"error": error.detail, "values": {"tracking_id": tracking_id, "reason": reason}},
            status_code=error.status,
        )
    await session.commit()
    flash(request, f"You opened {case.tracking_id}; its owner is told.", "warn")
    return redirect(f"/cases/{case.id}")
