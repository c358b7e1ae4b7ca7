"""JSON API of cases (opening one, from reports or not, is in the intake API)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from vulnops.audit.schemas import EventOut
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.cases import deadlines, milestones, service, severity, team
from vulnops.cases.assessment import AssessmentInput
from vulnops.cases.models import Case
from vulnops.cases.schemas import (
    BreakGlassIn,
    CaseOut,
    CasePatch,
    CvssOut,
    MemberOut,
    MilestoneOut,
    ReasonIn,
    SeverityIn,
    TeamIn,
    TeamOut,
    TransitionIn,
)
from vulnops.cases.severity import Rating
from vulnops.cases.sla import SlaPolicy
from vulnops.cases.states import CaseState
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.errors import Forbidden
from vulnops.settings import Settings

router = APIRouter(prefix="/api/cases", tags=["cases"])
READ = allowed(Permission.CASES_READ)
MANAGE = allowed(Permission.CASES_MANAGE)
PROGRESS = allowed(Permission.CASES_PROGRESS)


# "No customer needs telling" stands in for the notification: only those who tell customers
# (or decide on disclosure) may record it.
WAIVE_NOTICE = (Permission.ADVISORIES_SEND, Permission.DISCLOSURE_MANAGE)


def check_move(principal: Principal, target: CaseState) -> None:
    """Refuse a hand move this principal's role may not make (403)."""
    if target is CaseState.NOTIFIED and not any(principal.can(p) for p in WAIVE_NOTICE):
        raise Forbidden(
            "only those who send advisories or decide on disclosure record that no customer "
            "needs telling"
        )


def case_out(case: Case, *, now: datetime) -> CaseOut:
    out = CaseOut.model_validate(case)
    out.overdue = case.next_due is not None and case.next_due <= now
    return out


def policy_of(request: Request) -> SlaPolicy:
    settings: Settings = request.app.state.settings
    return deadlines.sla_policy(settings.sla_policy_file)


@router.get("")
async def list_cases(
    session: SessionDep,
    state: CaseState | None = None,
    rating: Rating | None = None,
    service_name: Annotated[Text | None, Query(alias="service", max_length=100)] = None,
    owner_id: Id | None = None,
    assigned_to: Id | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    overdue: bool = False,
    q: Annotated[Text | None, Query(max_length=200)] = None,
    sort: Text = "opened",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[CaseOut]:
    """Cases, filtered, searched (words, or a tracking id) and paged; ``overdue`` lists the
    cases with a deadline passed and unmet; ``assigned_to`` those a user owns or responds to;
    ``open`` those not closed or rejected; ``sort=due`` puts the nearest deadline first."""
    now = datetime.now(UTC)
    cases = await service.list_cases(
        session,
        viewer=principal,
        now=now,
        state=state,
        rating=rating,
        service=service_name,
        owner_id=owner_id,
        assigned_to=assigned_to,
        open_only=open_only,
        overdue=overdue,
        search=q,
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return PageOut[CaseOut].of(cases, lambda case: case_out(case, now=now))


@router.get("/cvss", dependencies=[require(READ)])
async def score_cvss(vector: Annotated[Text, Query(min_length=1, max_length=300)]) -> CvssOut:
    """Score a CVSS 3.1, 3.0 or 4.0 vector (what the case page's calculator shows as its metrics
    are chosen); a vector that is not valid is a 422 naming the metric."""
    found = severity.score_cvss(vector, field="vector")
    return CvssOut(
        version=found.version,
        vector=found.vector,
        base_score=found.base_score,
        severity=found.severity,
    )


@router.get("/{case_id:int}", dependencies=[require(READ)])
async def get_case(case_id: Id, session: SessionDep) -> CaseOut:
    return case_out(await service.get_case(session, case_id=case_id), now=datetime.now(UTC))


@router.patch("/{case_id:int}")
async def update_case(
    case_id: Id, body: CasePatch, session: SessionDep, principal: Principal = require(MANAGE)
) -> CaseOut:
    case = await service.update_case(
        session,
        case_id=case_id,
        actor=principal.actor,
        title=body.title,
        summary=body.summary,
        services=body.services,
        owner_id=body.owner_id,
        responder_id=body.responder_id,
        reason=body.reason,
    )
    await session.commit()
    return case_out(case, now=datetime.now(UTC))


@router.put("/{case_id:int}/severity")
async def assess_severity(
    request: Request,
    case_id: Id,
    body: SeverityIn,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> CaseOut:
    """Replace the severity assessment: CVSS 3.1 and 4.0 vectors (scored), the online-service
    rating (from impact and data sensitivity), the SSVC decision, CWE, exploitation."""
    given = AssessmentInput(
        **body.model_dump(exclude={"reason"}),
    )
    case = await service.assess_severity(
        session,
        case_id=case_id,
        given=given,
        reason=body.reason,
        actor=principal.actor,
        policy=policy_of(request),
        settings=request.app.state.settings,
    )
    await session.commit()
    return case_out(case, now=datetime.now(UTC))


@router.post("/{case_id:int}/acknowledge")
async def acknowledge(
    case_id: Id, request: Request, session: SessionDep, principal: Principal = require(MANAGE)
) -> CaseOut:
    now = datetime.now(UTC)
    case = await service.acknowledge(
        session,
        case_id=case_id,
        actor=principal.actor,
        actor_id=principal.user_id,
        now=now,
        settings=request.app.state.settings,
    )
    await session.commit()
    return case_out(case, now=now)


@router.post("/{case_id:int}/transition")
async def transition(
    case_id: Id,
    body: TransitionIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(PROGRESS),
) -> CaseOut:
    """A person's decision, as the state it moves the case to: ``triaging`` (acknowledge),
    ``remediating`` (triage), ``mitigated`` (without a deployment: a reason), ``notified`` (no
    customer needs telling: a reason), ``closed`` or ``rejected`` (a reason). The other states
    follow facts only the code records: asking for one is a 409 that names that code."""
    check_move(principal, body.state)
    now = datetime.now(UTC)
    case = await service.transition(
        session,
        case_id=case_id,
        target=body.state,
        reason=body.reason,
        actor=principal.actor,
        now=now,
        settings=request.app.state.settings,
    )
    await session.commit()
    return case_out(case, now=now)


@router.post("/{case_id:int}/reopen")
async def reopen(
    case_id: Id,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(PROGRESS),
) -> CaseOut:
    """Reopen a closed or rejected case; it takes the state its other milestones give."""
    now = datetime.now(UTC)
    case = await service.reopen_case(
        session,
        case_id=case_id,
        reason=body.reason,
        actor=principal.actor,
        now=now,
        settings=request.app.state.settings,
    )
    await session.commit()
    return case_out(case, now=now)


@router.get("/{case_id:int}/milestones", dependencies=[require(READ)])
async def case_milestones(case_id: Id, session: SessionDep) -> list[MilestoneOut]:
    """The facts the case's state is derived from, in lifecycle order."""
    await service.get_case(session, case_id=case_id)
    reached = await milestones.reached(session, case_id=case_id)
    return [MilestoneOut.model_validate(view, from_attributes=True) for view in reached.values()]


@router.get("/{case_id:int}/events", dependencies=[require(READ)])
async def case_events(
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
) -> PageOut[EventOut]:
    """The case's own events, oldest first (the case page's timeline adds its reports')."""
    await service.get_case(session, case_id=case_id)
    events = await service.events(session, case_id=case_id, page=page, per_page=per_page)
    return PageOut[EventOut].of(events, EventOut.model_validate)


async def _team_out(session: SessionDep, case: Case) -> TeamOut:
    people = await team.members(session, case=case)
    return TeamOut(
        restricted=case.restricted,
        members=[MemberOut(**asdict(member)) for member in people],
    )


@router.get("/{case_id:int}/team", dependencies=[require(READ)])
async def get_team(case_id: Id, session: SessionDep) -> TeamOut:
    """Who is on the case's team, and whether only they see it."""
    return await _team_out(session, await service.get_case(session, case_id=case_id))


@router.put("/{case_id:int}/team")
async def set_team(
    case_id: Id, body: TeamIn, session: SessionDep, principal: Principal = require(MANAGE)
) -> TeamOut:
    """Restrict the case to its team (or open it to all staff) and name the members."""
    case = await service.get_case(session, case_id=case_id)
    await team.set_team(
        session,
        case=case,
        restricted=body.restricted,
        member_ids=body.members,
        principal=principal,
    )
    await session.commit()
    return await _team_out(session, case)


@router.post("/break-glass")
async def break_glass(
    body: BreakGlassIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(allowed(Permission.USERS_MANAGE)),
) -> CaseOut:
    """An administrator opens a restricted case they are not on the team of, with a reason:
    recorded on the case, and its owner is emailed."""
    case = await team.break_glass(
        session,
        tracking_id=body.tracking_id,
        reason=body.reason,
        principal=principal,
        settings=request.app.state.settings,
    )
    await session.commit()
    return case_out(case, now=datetime.now(UTC))
