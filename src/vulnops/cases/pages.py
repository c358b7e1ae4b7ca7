"""HTML pages: the case list, and the forms that change a case (the case page itself is the
case file, which shows what every domain knows about the case)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.cases import service
from vulnops.cases.api import MANAGE, PROGRESS, READ, check_move, policy_of
from vulnops.cases.assessment import AssessmentInput
from vulnops.cases.models import Case
from vulnops.cases.schemas import SeverityIn
from vulnops.cases.severity import Rating
from vulnops.cases.states import CaseState
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid
from vulnops.ui.forms import form_action
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/cases", response_class=HTMLResponse)
async def cases_page(
    request: Request,
    session: SessionDep,
    state: Text = "",
    rating: Text = "",
    service_name: Annotated[Text, Query(alias="service", max_length=100)] = "",
    overdue: bool = False,
    mine: bool = False,
    q: Annotated[Text, Query(max_length=200)] = "",
    sort: Text = "opened",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    """``mine``: the open cases the viewer owns or responds to (their work queue's list)."""
    now = datetime.now(UTC)
    cases = await service.list_cases(
        session,
        viewer=principal,
        now=now,
        state=CaseState(state) if state in set(CaseState) else None,
        rating=Rating(rating) if rating in set(Rating) else None,
        service=service_name or None,
        assigned_to=principal.user_id if mine else None,
        open_only=mine,
        overdue=overdue,
        search=q or None,
        sort=sort if sort in service.SORTS else "opened",
        page=page,
    )
    filters = {
        "state": state,
        "rating": rating,
        "service": service_name,
        "q": q,
        "sort": sort,
        "overdue": "1" if overdue else "",
        "mine": "1" if mine else "",
    }

    def page_url(number: int) -> str:
        return "/cases?" + urlencode({**filters, "page": number})

    return render(
        request,
        "cases/list.html",
        {
            "page": cases,
            "filters": filters,
            "states": list(CaseState),
            "ratings": list(Rating),
            "page_url": page_url,
            "now": now,
        },
    )


def _form_bool(value: str) -> bool | None:
    return {"": None, "yes": True, "no": False}[value]


@router.post("/cases/{case_id:int}/severity")
async def assess(
    request: Request,
    case_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form()] = "",
    cvss31_vector: Annotated[Text, Form()] = "",
    cvss40_vector: Annotated[Text, Form()] = "",
    impact: Annotated[Text, Form()] = "",
    data_sensitivity: Annotated[Text, Form()] = "",
    exploitation: Annotated[Text, Form()] = "none",
    automatable: Annotated[Text, Form(pattern="^(|yes|no)$")] = "",
    technical_impact: Annotated[Text, Form()] = "",
    mission_wellbeing: Annotated[Text, Form()] = "",
    cwe_id: Annotated[Text, Form()] = "",
    publicly_disclosed: Annotated[bool, Form()] = False,
    customer_action_required: Annotated[bool, Form()] = False,
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> Case:
        try:
            body = SeverityIn.model_validate(
                {
                    "reason": reason,
                    "cvss31_vector": cvss31_vector or None,
                    "cvss40_vector": cvss40_vector or None,
                    "impact": impact or None,
                    "data_sensitivity": data_sensitivity or None,
                    "exploitation": exploitation,
                    "automatable": _form_bool(automatable),
                    "technical_impact": technical_impact or None,
                    "mission_wellbeing": mission_wellbeing or None,
                    "cwe_id": cwe_id or None,
                    "publicly_disclosed": publicly_disclosed,
                    "customer_action_required": customer_action_required,
                }
            )
        except ValidationError as error:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise Invalid(detail) from None
        return await service.assess_severity(
            session,
            case_id=case_id,
            given=AssessmentInput(**body.model_dump(exclude={"reason"})),
            reason=body.reason,
            actor=principal.actor,
            policy=policy_of(request),
            settings=request.app.state.settings,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda case: f"Severity of {case.tracking_id} assessed: {case.rating or 'unrated'}.",
        back=f"/cases/{case_id}/severity",
    )


@router.post("/cases/{case_id:int}/acknowledge")
async def acknowledge(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(MANAGE)
) -> Response:
    case = await service.acknowledge(
        session,
        case_id=case_id,
        actor=principal.actor,
        actor_id=principal.user_id,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    flash(request, f"{case.tracking_id} acknowledged.", "success")
    return redirect(f"/cases/{case_id}")


@router.post("/cases/{case_id:int}/transition")
async def transition(
    request: Request,
    case_id: Id,
    session: SessionDep,
    state: Annotated[CaseState, Form()],
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(PROGRESS),
) -> Response:
    """A person's decision (triage, mitigated without a deployment, no customer needs telling,
    close, reject); what only the code sets is refused with the reason shown."""

    async def work() -> Case:
        check_move(principal, state)
        return await service.transition(
            session,
            case_id=case_id,
            target=state,
            reason=reason or None,
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda case: f"{case.tracking_id} is now {case.state}.",
        back=f"/cases/{case_id}",
    )


@router.post("/cases/{case_id:int}/reopen")
async def reopen(
    request: Request,
    case_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(PROGRESS),
) -> Response:
    async def work() -> Case:
        return await service.reopen_case(
            session,
            case_id=case_id,
            reason=reason,
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda case: f"{case.tracking_id} reopened: it is {case.state}.",
        back=f"/cases/{case_id}",
    )


@router.post("/cases/{case_id:int}/edit")
async def edit(
    request: Request,
    case_id: Id,
    session: SessionDep,
    title: Annotated[Text, Form(min_length=3, max_length=300)],
    summary: Annotated[Text, Form(max_length=100_000)] = "",
    services: Annotated[Text, Form(max_length=5000)] = "",
    owner_id: Annotated[Text, Form()] = "",
    responder_id: Annotated[Text, Form()] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    case = await service.update_case(
        session,
        case_id=case_id,
        actor=principal.actor,
        title=title,
        summary=summary,
        services=[name for name in services.replace(",", " ").split() if name],
        owner_id=int(owner_id) if owner_id.isdigit() else None,
        responder_id=int(responder_id) if responder_id.isdigit() else None,
    )
    await session.commit()
    flash(request, f"{case.tracking_id} updated.", "success")
    return redirect(f"/cases/{case_id}")
