"""JSON API of root causes, structural improvements, case links, hunts, findings, classes and
the services' source repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile, status
from pydantic import BaseModel

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, PageNumber
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.intake.api import read_sarif
from vulnops.settings import Settings
from vulnops.variants import classes, hunts, links, rootcause, triage
from vulnops.variants.schemas import (
    ClassOut,
    ClassRow,
    CloseClassIn,
    DecisionIn,
    FindingOut,
    HuntIn,
    HuntOut,
    ImprovementIn,
    ImprovementOut,
    LinkIn,
    LinkOut,
    RootCauseIn,
    RootCauseOut,
)

router = APIRouter(prefix="/api", tags=["variants"])
READ = allowed(Permission.CASES_READ)
HUNT = allowed(Permission.VARIANTS_HUNT)
Order = Literal["cases", "time", "recurrence"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _today() -> datetime:
    return datetime.now(UTC)


@router.get("/cases/{case_id:int}/root-cause", dependencies=[require(READ)])
async def get_root_cause(case_id: Id, session: SessionDep) -> RootCauseOut:
    return await rootcause.view(session, case_id=case_id, today=_today().date())


@router.put("/cases/{case_id:int}/root-cause")
async def put_root_cause(
    case_id: Id, body: RootCauseIn, session: SessionDep, principal: Principal = require(HUNT)
) -> RootCauseOut:
    """Write the root-cause analysis (the case takes its weakness)."""
    await rootcause.record(
        session, case_id=case_id, given=body, actor=principal.actor, now=_today()
    )
    await session.commit()
    return await rootcause.view(session, case_id=case_id, today=_today().date())


@router.post("/cases/{case_id:int}/improvements", status_code=status.HTTP_201_CREATED)
async def add_improvement(
    case_id: Id, body: ImprovementIn, session: SessionDep, principal: Principal = require(HUNT)
) -> ImprovementOut:
    """A structural improvement: an action with an owner and a due date."""
    found = await rootcause.add_improvement(
        session,
        case_id=case_id,
        action=body.action,
        owner_id=body.owner_id,
        due=body.due,
        actor=principal.actor,
    )
    await session.commit()
    return await rootcause.improvement_out(session, found=found, today=_today().date())


@router.post("/improvements/{improvement_id:int}/done")
async def complete_improvement(
    improvement_id: Id, session: SessionDep, principal: Principal = require(HUNT)
) -> ImprovementOut:
    found = await rootcause.complete_improvement(
        session, improvement_id=improvement_id, actor=principal.actor, now=_today()
    )
    await session.commit()
    return await rootcause.improvement_out(session, found=found, today=_today().date())


class Related(BaseModel):
    parents: list[LinkOut]
    children: list[LinkOut]


@router.get("/cases/{case_id:int}/links")
async def get_links(
    case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> Related:
    """The cases this one came from and the ones that came from it."""
    parents, children = await links.related(session, case_id=case_id, viewer=principal)
    return Related(parents=parents, children=children)


@router.post("/cases/{case_id:int}/links", status_code=status.HTTP_201_CREATED)
async def add_link(
    case_id: Id, body: LinkIn, session: SessionDep, principal: Principal = require(HUNT)
) -> Related:
    """Link this case to the case it came from (a variant, bypass or regression of it)."""
    await links.link_as(
        session,
        child_id=case_id,
        parent_id=body.parent_id,
        relation=body.relation,
        principal=principal,
    )
    await session.commit()
    parents, children = await links.related(session, case_id=case_id, viewer=principal)
    return Related(parents=parents, children=children)


@router.post("/cases/{case_id:int}/hunts", status_code=status.HTTP_201_CREATED)
async def start_hunt(
    case_id: Id,
    body: HuntIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(HUNT),
) -> HuntOut:
    """Start a hunt (code, components, configuration or history); it runs as a job."""
    hunt = await hunts.start(
        session, case_id=case_id, given=body, actor=principal.actor, settings=_settings(request)
    )
    await session.commit()
    return await hunts.view(session, hunt=hunt)


@router.post("/cases/{case_id:int}/hunts/sarif", status_code=status.HTTP_201_CREATED)
async def upload_hunt(
    case_id: Id,
    request: Request,
    session: SessionDep,
    sarif: Annotated[UploadFile, File(description="A SARIF 2.1.0 log (CodeQL, Semgrep, ...)")],
    principal: Principal = require(HUNT),
) -> HuntOut:
    """A hunt from another tool's SARIF log (a CodeQL multi-repository run, say)."""
    settings = _settings(request)
    log = await read_sarif(sarif, limit=settings.max_sarif_bytes)
    hunt = await hunts.start(
        session,
        case_id=case_id,
        given=HuntIn(strategy="sarif"),
        actor=principal.actor,
        settings=settings,
        sarif_log=log,
    )
    await session.commit()
    return await hunts.view(session, hunt=hunt)


@router.get("/cases/{case_id:int}/hunts", dependencies=[require(READ)])
async def list_hunts(case_id: Id, session: SessionDep) -> list[HuntOut]:
    return [
        await hunts.view(session, hunt=h) for h in await hunts.of_case(session, case_id=case_id)
    ]


@router.get("/hunts/{hunt_id:int}", dependencies=[require(READ)])
async def get_hunt(hunt_id: Id, session: SessionDep) -> HuntOut:
    return await hunts.view(session, hunt=await hunts.get(session, hunt_id=hunt_id))


@router.get("/hunts/{hunt_id:int}/findings")
async def list_findings(
    hunt_id: Id,
    session: SessionDep,
    state: Literal["candidate", "variant", "duplicate", "not_a_problem"] | None = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[FindingOut]:
    found = await hunts.findings_page(
        session,
        hunt=await hunts.get(session, hunt_id=hunt_id),
        viewer=principal,
        state=state,
        page=page,
        per_page=per_page,
    )
    return PageOut[FindingOut].of(found, lambda f: f)


@router.post("/findings/{finding_id:int}/decision")
async def decide_finding(
    finding_id: Id,
    body: DecisionIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(HUNT),
) -> FindingOut:
    """A variant (bypass, regression) case, a duplicate of a case, or not a problem."""
    found = await triage.decide(
        session,
        finding_id=finding_id,
        given=body,
        principal=principal,
        settings=_settings(request),
        now=_today(),
    )
    await session.commit()
    return await hunts.finding_view(session, finding=found)


@router.get("/classes")
async def list_classes(
    session: SessionDep,
    order: Order = "cases",
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    principal: Principal = require(READ),
) -> list[ClassRow]:
    """The top weaknesses of the cases you may see, by cases, time to fix or recurrence."""
    return await classes.top(session, viewer=principal, order=order, limit=limit)


@router.get("/classes/{cwe_id:int}")
async def get_class(
    cwe_id: Annotated[int, Path(ge=1, le=100_000)],
    session: SessionDep,
    principal: Principal = require(READ),
) -> ClassOut:
    return await classes.show(session, cwe_id=cwe_id, viewer=principal, today=_today().date())


@router.post("/classes/{cwe_id:int}/close")
async def close_class(
    cwe_id: Annotated[int, Path(ge=1, le=100_000)],
    body: CloseClassIn,
    session: SessionDep,
    principal: Principal = require(HUNT),
) -> ClassOut:
    """Close the class (every variant fixed, an improvement done) and set its guards."""
    await classes.close(
        session,
        cwe_id=cwe_id,
        reason=body.reason,
        actor=principal.actor,
        viewer=principal,
        today=_today().date(),
    )
    await session.commit()
    return await classes.show(session, cwe_id=cwe_id, viewer=principal, today=_today().date())
