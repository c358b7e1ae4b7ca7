"""JSON API of post-incident reviews, their action items and responders' feedback, and of the
program metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response

from vulnops.approvals.deciding import decided
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, PageNumber
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.review import actions, export, metrics, responders, service
from vulnops.review.filters import metrics_filter
from vulnops.review.schemas import (
    ActionItemIn,
    ActionItemOut,
    DecisionIn,
    ResponderFeedbackIn,
    ReviewListItem,
    ReviewOut,
    ReviewState,
    SectionsIn,
)
from vulnops.review.schemas_metrics import MetricsFilter, ProgramMetrics
from vulnops.settings import Settings

router = APIRouter(prefix="/api", tags=["reviews"])
READ = allowed(Permission.CASES_READ)
WRITE = allowed(Permission.REVIEWS_WRITE)
Filter = Annotated[MetricsFilter, Depends(metrics_filter)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _now() -> datetime:
    return datetime.now(UTC)


async def _view(session: SessionDep, case_id: int, principal: Principal) -> ReviewOut:
    return await service.view(session, case_id=case_id, viewer=principal, now=_now())


@router.get("/reviews")
async def list_reviews(
    session: SessionDep,
    state: Annotated[ReviewState | None, Query()] = None,
    page: Annotated[PageNumber, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[ReviewListItem]:
    """The reviews of the cases you may see, newest first, with their open action items."""
    found = await service.list_reviews(
        session, viewer=principal, state=state, today=_now(), page=page, per_page=per_page
    )
    return PageOut.of(found, lambda item: item)


@router.get("/cases/{case_id:int}/review")
async def get_review(
    case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> ReviewOut:
    """The review: its sections, its record (generated until it is published, kept after),
    responders' feedback and action items. Tenants are named only to the case's team."""
    return await _view(session, case_id, principal)


@router.post("/cases/{case_id:int}/review", status_code=status.HTTP_201_CREATED)
async def start_review(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> ReviewOut:
    """Start the review of a mitigated case (again: the review already started)."""
    await service.start(
        session, case_id=case_id, actor=principal.actor, settings=_settings(request), now=_now()
    )
    await session.commit()
    return await _view(session, case_id, principal)


@router.put("/cases/{case_id:int}/review/sections")
async def write_sections(
    case_id: Id, body: SectionsIn, session: SessionDep, principal: Principal = require(WRITE)
) -> ReviewOut:
    """Write the impact, what went well, what went wrong and where we got lucky (Markdown)."""
    await service.write(session, case_id=case_id, given=body, actor=principal.actor, now=_now())
    await session.commit()
    return await _view(session, case_id, principal)


@router.post("/cases/{case_id:int}/review/submit")
async def submit_review(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> ReviewOut:
    """Ask a second person to approve the publication."""
    await service.submit(
        session, case_id=case_id, actor=principal.actor, settings=_settings(request), now=_now()
    )
    await session.commit()
    return await _view(session, case_id, principal)


@router.post("/cases/{case_id:int}/review/decision")
async def decide_review(
    request: Request,
    case_id: Id,
    body: DecisionIn,
    session: SessionDep,
    principal: Principal = require(WRITE),
) -> ReviewOut:
    """Publish the review (someone who did not write it) or return it to draft, with a
    comment."""
    await decided(
        session,
        service.decide,
        case_id=case_id,
        actor=principal.actor,
        approve=body.approve,
        comment=body.comment,
        settings=_settings(request),
    )
    return await _view(session, case_id, principal)


@router.post("/cases/{case_id:int}/review/action-items", status_code=status.HTTP_201_CREATED)
async def add_action_item(
    case_id: Id, body: ActionItemIn, session: SessionDep, principal: Principal = require(WRITE)
) -> ActionItemOut:
    item = await actions.add(session, case_id=case_id, given=body, actor=principal.actor)
    await session.commit()
    return await actions.item_view(session, item=item, today=_now().date())


@router.post("/action-items/{item_id:int}/done")
async def complete_action_item(
    item_id: Id, session: SessionDep, principal: Principal = require(WRITE)
) -> ActionItemOut:
    item = await actions.complete(session, item_id=item_id, actor=principal.actor, now=_now())
    await session.commit()
    return await actions.item_view(session, item=item, today=_now().date())


@router.get("/action-items")
async def list_action_items(
    session: SessionDep,
    mine: Annotated[bool, Query(description="Only yours.")] = False,
    overdue: Annotated[bool, Query(description="Only the overdue ones.")] = False,
    page: Annotated[PageNumber, Query()] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[ActionItemOut]:
    """The open action items of the cases you may see, the soonest due first."""
    found = await actions.open_items(
        session,
        viewer=principal,
        today=_now().date(),
        owner_id=principal.user_id if mine else None,
        overdue_only=overdue,
        page=page,
        per_page=per_page,
    )
    return PageOut.of(found, lambda item: item)


@router.post("/cases/{case_id:int}/review/feedback")
async def give_feedback(
    case_id: Id,
    body: ResponderFeedbackIn,
    session: SessionDep,
    principal: Principal = require(READ),
) -> ReviewOut:
    """Your rating (1 to 5) and comment on the response, as one of its participants."""
    await responders.give(
        session,
        case_id=case_id,
        user_id=principal.user_id,
        actor=principal.actor,
        given=body,
        now=_now(),
    )
    await session.commit()
    return await _view(session, case_id, principal)


@router.get(
    "/cases/{case_id:int}/review/export",
    responses={200: {"content": {"text/markdown": {}, "application/pdf": {}}}},
)
async def export_review(
    case_id: Id,
    session: SessionDep,
    format: Annotated[Literal["md", "pdf"], Query()] = "md",
    principal: Principal = require(READ),
) -> Response:
    """The review as a Markdown or PDF document, with every field of its page."""
    review = await _view(session, case_id, principal)
    return download(review, format)


def download(review: ReviewOut, kind: str) -> Response:
    name = f"review-{review.tracking_id}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "pdf":
        return Response(export.pdf(review), media_type="application/pdf", headers=headers)
    return Response(
        export.markdown(review), media_type="text/markdown; charset=utf-8", headers=headers
    )


@router.get("/metrics")
async def program_metrics(
    session: SessionDep, given: Filter, principal: Principal = require(READ)
) -> ProgramMetrics:
    """Every program figure over the cases you may see, first reported in the period (by
    default the last twelve months), of one rating, source or service."""
    return await metrics.program(session, viewer=principal, given=given, now=_now())
