"""The pages of reviews and metrics: a case's Review tab (its record, sections, feedback and
action items, and the buttons that move it), the list of reviews, and the program dashboard
with its plots and their CSVs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.approvals.deciding import decided
from vulnops.auth import service as users
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.severity import Rating
from vulnops.cases.states import Milestone
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.intake.states import Source
from vulnops.review import actions, dashboard, metrics, responders, service
from vulnops.review.api import READ, WRITE, download
from vulnops.review.filters import metrics_filter
from vulnops.review.measures import METRICS, POINT_LABELS, describe
from vulnops.review.schemas import ActionItemIn, ResponderFeedbackIn, ReviewState, SectionsIn
from vulnops.review.schemas_metrics import MetricsFilter
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)
Filter = Annotated[MetricsFilter, Depends(metrics_filter)]
PlotKey = Annotated[
    Literal["response", "remediation", "distribution", "sla", "exposure", "satisfaction", "cases"],
    Path(),
]
OVERDUE_SHOWN = 10


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/cases/{case_id:int}/review", response_class=HTMLResponse)
async def review_tab(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    now = _now()
    found = await service.find(session, case_id=case.id)
    review = (
        await service.view(session, case_id=case.id, viewer=principal, now=now) if found else None
    )
    reached = await milestones.reached(session, case_id=case.id)
    return render(
        request,
        "review/review.html",
        {
            "case": case,
            "tab": "review",
            "now": now,
            "review": review,
            "mitigated": Milestone.MITIGATED in reached,
            "hours": describe,
            "staff": await users.assignable(session),
            "asked": review is not None
            and any(r.user_id == principal.user_id for r in review.responders),
        },
    )


@router.post("/cases/{case_id:int}/review")
async def start_review(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> Response:
    async def work() -> object:
        return await service.start(
            session, case_id=case_id, actor=principal.actor, settings=_settings(request), now=_now()
        )

    return await form_action(
        request, session, work, done=lambda _: "Review started.", back=f"/cases/{case_id}/review"
    )


@router.post("/cases/{case_id:int}/review/sections")
async def write_sections(
    request: Request,
    case_id: Id,
    session: SessionDep,
    impact: Annotated[Text, Form(max_length=20_000)] = "",
    went_well: Annotated[Text, Form(max_length=20_000)] = "",
    went_wrong: Annotated[Text, Form(max_length=20_000)] = "",
    lucky: Annotated[Text, Form(max_length=20_000)] = "",
    principal: Principal = require(WRITE),
) -> Response:
    given = SectionsIn(impact=impact, went_well=went_well, went_wrong=went_wrong, lucky=lucky)

    async def work() -> object:
        return await service.write(
            session, case_id=case_id, given=given, actor=principal.actor, now=_now()
        )

    return await form_action(
        request, session, work, done=lambda _: "Review saved.", back=f"/cases/{case_id}/review"
    )


@router.post("/cases/{case_id:int}/review/submit")
async def submit_review(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> Response:
    async def work() -> object:
        return await service.submit(
            session, case_id=case_id, actor=principal.actor, settings=_settings(request), now=_now()
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Submitted: a second person approves its publication.",
        back=f"/cases/{case_id}/review",
    )


@router.post("/cases/{case_id:int}/review/decision")
async def decide_review(
    request: Request,
    case_id: Id,
    session: SessionDep,
    decision: Annotated[Literal["approve", "reject"], Form()],
    comment: Annotated[Text, Form(max_length=5000)] = "",
    principal: Principal = require(WRITE),
) -> Response:
    async def work() -> object:
        return await decided(
            session,
            service.decide,
            case_id=case_id,
            actor=principal.actor,
            approve=decision == "approve",
            comment=comment or None,
            settings=_settings(request),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Published." if decision == "approve" else "Returned to draft.",
        back=f"/cases/{case_id}/review",
    )


@router.post("/cases/{case_id:int}/review/action-items")
async def add_action_item(
    request: Request,
    case_id: Id,
    session: SessionDep,
    title: Annotated[Text, Form(max_length=5000)],
    owner_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    due: Annotated[date, Form()],
    tracker: Annotated[Text, Form(max_length=500)] = "",
    principal: Principal = require(WRITE),
) -> Response:
    async def work() -> object:
        given = ActionItemIn(title=title, owner_id=owner_id, due=due, tracker=tracker)
        return await actions.add(session, case_id=case_id, given=given, actor=principal.actor)

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Action item added.",
        back=f"/cases/{case_id}/review#action-items",
    )


@router.post("/action-items/{item_id:int}/done")
async def complete_action_item(
    request: Request, item_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> Response:
    async def work() -> Any:
        return await actions.complete(session, item_id=item_id, actor=principal.actor, now=_now())

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Action item done.",
        back=lambda item: f"/cases/{item.case_id}/review#action-items",
    )


@router.post("/cases/{case_id:int}/review/feedback")
async def give_feedback(
    request: Request,
    case_id: Id,
    session: SessionDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[Text, Form(max_length=5000)] = "",
    principal: Principal = require(READ),
) -> Response:
    async def work() -> object:
        given = ResponderFeedbackIn(rating=rating, comment=comment)
        return await responders.give(
            session,
            case_id=case_id,
            user_id=principal.user_id,
            actor=principal.actor,
            given=given,
            now=_now(),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Thank you: your feedback is in the review.",
        back=f"/cases/{case_id}/review#responders",
    )


@router.get("/cases/{case_id:int}/review.md")
async def review_markdown(
    case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> Response:
    return download(
        await service.view(session, case_id=case_id, viewer=principal, now=_now()), "md"
    )


@router.get("/cases/{case_id:int}/review.pdf")
async def review_pdf(
    case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> Response:
    return download(
        await service.view(session, case_id=case_id, viewer=principal, now=_now()), "pdf"
    )


@router.get("/reviews", response_class=HTMLResponse)
async def reviews_page(
    request: Request,
    session: SessionDep,
    state: Annotated[ReviewState | None, Query()] = None,
    page: Annotated[PageNumber, Query()] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    found = await service.list_reviews(
        session, viewer=principal, state=state, today=_now(), page=page, per_page=50
    )

    def page_url(number: int) -> str:
        return "/reviews?" + urlencode({**({"state": state} if state else {}), "page": number})

    return render(
        request, "review/reviews.html", {"found": found, "state": state, "page_url": page_url}
    )


@router.get("/metrics", response_class=HTMLResponse)
async def dashboard_page(
    request: Request, session: SessionDep, given: Filter, principal: Principal = require(READ)
) -> HTMLResponse:
    now = _now()
    found = await metrics.program(session, viewer=principal, given=given, now=now)
    overdue = await actions.open_items(
        session, viewer=principal, today=now.date(), overdue_only=True, per_page=OVERDUE_SHOWN
    )
    return render(
        request,
        "review/dashboard.html",
        {
            "metrics": found,
            "plots": dashboard.plots(found),
            "query": urlencode(given.query()),
            "ratings": list(Rating),
            "sources": list(Source),
            "hours": describe,
            "measures": METRICS,
            "point_labels": POINT_LABELS,
            "overdue": overdue,
        },
    )


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(
        tuple(f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v) for v in row)
        for row in rows
    )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/metrics/table.csv")
async def table_csv(
    session: SessionDep, given: Filter, principal: Principal = require(READ)
) -> Response:
    found = await metrics.program(session, viewer=principal, given=given, now=_now())
    header, rows = dashboard.table_rows(found)
    return _csv(header, rows, f"metrics-{found.start}-{found.end}")


@router.get("/metrics/plots/{plot}.csv")
async def plot_csv(
    plot: PlotKey, session: SessionDep, given: Filter, principal: Principal = require(READ)
) -> Response:
    found = await metrics.program(session, viewer=principal, given=given, now=_now())
    chosen = next(p for p in dashboard.plots(found) if p.key == plot)
    return _csv(chosen.header, chosen.rows, f"{plot}-{found.start}-{found.end}")
