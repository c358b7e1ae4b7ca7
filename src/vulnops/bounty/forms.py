"""The bounty's forms on a report's page (post/redirect/get): each calls the same service as
its JSON route, and a refusal is flashed on the page the form was on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.bounty import decisions, disputes, retests
from vulnops.bounty.api import APPROVE, AWARD, RESEARCHER, now
from vulnops.bounty.awards import Assessment
from vulnops.bounty.models import BountyAward, BountyDispute
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import NotFound
from vulnops.intake import service as intake
from vulnops.ui.templating import flash, redirect

router = APIRouter(include_in_schema=False)
Long = Annotated[Text, Form(max_length=5000)]


async def _award_report(session: SessionDep, principal: Principal, award_id: int) -> int:
    award = await session.get(BountyAward, award_id)
    if award is None:
        raise NotFound(f"no award {award_id}")
    await intake.visible_report(session, principal=principal, report_id=award.report_id)
    return award.report_id


@router.post("/bounty/reports/{report_id:int}/award")
async def propose(
    request: Request,
    report_id: Id,
    session: SessionDep,
    impact: Annotated[Text, Form(max_length=100)],
    severity: Annotated[Text, Form(max_length=100)],
    quality: Annotated[Text, Form(max_length=100)],
    scenarios: Annotated[list[Text], Form(max_length=20)] = [],  # noqa: B006 - FastAPI copies
    known_internally: Annotated[bool, Form()] = False,
    principal: Principal = require(AWARD),
) -> Response:
    await intake.visible_report(session, principal=principal, report_id=report_id)
    proposed = await decisions.propose(
        session,
        report_id=report_id,
        assessment=Assessment(impact, severity, quality, tuple(scenarios)),
        actor=principal.email,
        settings=request.app.state.settings,
        now=now(),
        known_internally=known_internally,
    )
    await session.commit()
    flash(request, f"Award proposed: {len(proposed.reasons)} reason(s) below.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/awards/{award_id:int}/adjust")
async def adjust(
    request: Request,
    award_id: Id,
    session: SessionDep,
    amount: Annotated[int, Form(ge=0, le=10**15)],
    reason: Annotated[Text, Form(max_length=2000)],
    principal: Principal = require(AWARD),
) -> Response:
    report_id = await _award_report(session, principal, award_id)
    await decisions.adjust(
        session, award_id=award_id, amount=amount, reason=reason, actor=principal.email
    )
    await session.commit()
    flash(request, "Award adjusted.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/awards/{award_id:int}/submit")
async def submit(
    request: Request, award_id: Id, session: SessionDep, principal: Principal = require(AWARD)
) -> Response:
    report_id = await _award_report(session, principal, award_id)
    submitted = await decisions.submit(
        session,
        award_id=award_id,
        actor=principal.email,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    said = "granted" if submitted.status == "approved" else "sent for a second person's approval"
    flash(request, f"Award {said}.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/awards/{award_id:int}/decide")
async def decide(
    request: Request,
    award_id: Id,
    session: SessionDep,
    approve: Annotated[bool, Form()],
    comment: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(APPROVE),
) -> Response:
    report_id = await _award_report(session, principal, award_id)
    await decisions.decide(
        session,
        award_id=award_id,
        actor=principal.email,
        approve=approve,
        comment=comment or None,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    flash(request, "Award approved and granted." if approve else "Award rejected.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/reports/{report_id:int}/retests")
async def ask_retest(
    request: Request,
    report_id: Id,
    session: SessionDep,
    ask: Long,
    principal: Principal = require(AWARD),
) -> Response:
    await retests.request(
        session,
        principal=principal,
        report_id=report_id,
        ask=ask,
        settings=request.app.state.settings,
    )
    await session.commit()
    flash(request, "Retest asked for.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/me/retests/{retest_id:int}")
async def answer_retest(
    request: Request,
    retest_id: Id,
    session: SessionDep,
    outcome: Annotated[Text, Form(max_length=20)],
    note: Long = "",
    principal: Principal = require(RESEARCHER),
) -> Response:
    answered = await retests.answer(
        session,
        principal=principal,
        retest_id=retest_id,
        outcome=outcome,
        note=note,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    flash(request, "Thank you: your retest is recorded.", "success")
    return redirect(f"/reports/{answered.report_id}")


@router.post("/bounty/me/reports/{report_id:int}/dispute")
async def open_dispute(
    request: Request,
    report_id: Id,
    session: SessionDep,
    reason: Long,
    principal: Principal = require(RESEARCHER),
) -> Response:
    opened = await disputes.open_dispute(
        session,
        principal=principal,
        report_id=report_id,
        reason=reason,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    flash(request, f"Dispute opened: staff answer by {opened.due_at:%Y-%m-%d}.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/bounty/disputes/{dispute_id:int}/answer")
async def answer_dispute(
    request: Request,
    dispute_id: Id,
    session: SessionDep,
    answer: Long,
    principal: Principal = require(AWARD),
) -> Response:
    answered: BountyDispute = await disputes.answer_dispute(
        session,
        principal=principal,
        dispute_id=dispute_id,
        answer=answer,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    flash(request, "Dispute answered.", "success")
    return redirect(f"/reports/{answered.report_id}")
