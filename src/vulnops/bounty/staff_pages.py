"""The bounty's staff pages: the programme overview (programmes with their responsiveness, the
awards that wait, the open disputes, the quarter's leaderboard) and finance's payouts (ask,
mark, export)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.bounty import decisions, disputes, payouts, programs, reputation
from vulnops.bounty.api import READ, now
from vulnops.bounty.finance_api import FINANCE
from vulnops.bounty.models import BountyProgram
from vulnops.bounty.responsiveness import responsiveness
from vulnops.bounty.tables import money
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
WAITING = ("proposed", "pending_approval")


@router.get("/bounty", response_class=HTMLResponse)
async def overview(
    request: Request,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    found = list(await session.scalars(select(BountyProgram).order_by(BountyProgram.key)))
    shown = [
        (
            programs.view(p),
            programs.table_of(p),
            await responsiveness(session, program=p, now=now()),
        )
        for p in found
    ]
    quarter = reputation.quarter(now())
    return render(
        request,
        "bounty/overview.html",
        {
            "programmes": shown,
            "awards": await decisions.list_awards(
                session, viewer=principal, statuses=WAITING, page=page
            ),
            "disputes": await disputes.open_disputes(session, viewer=principal, limit=50),
            "quarter": quarter,
            "leaders": await reputation.leaderboard(
                session, period=quarter, limit=10, public=False
            ),
            "finance": principal.can(Permission.BOUNTY_FINANCE),
            "money": money,
            "page_url": lambda number: f"/bounty?page={number}",
        },
    )


@router.get("/bounty/payouts", response_class=HTMLResponse)
async def payouts_page(
    request: Request,
    session: SessionDep,
    waiting: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(FINANCE),
) -> HTMLResponse:
    return render(
        request,
        "bounty/payouts.html",
        {
            "page": await payouts.list_payouts(session, page=page, unanswered=waiting),
            "waiting": waiting,
            "backend": request.app.state.settings.bounty_payout_backend,
            "money": money,
            "page_url": lambda number: f"/bounty/payouts?waiting={int(waiting)}&page={number}",
        },
    )


@router.post("/bounty/payouts")
async def ask_payout(
    request: Request,
    session: SessionDep,
    researcher_id: Annotated[Id, Form()],
    amount: Annotated[int, Form(ge=1, le=10**15)],
    currency: Annotated[Text, Form(min_length=3, max_length=3)],
    key: Annotated[Text, Form(min_length=1, max_length=200)],
    principal: Principal = require(FINANCE),
) -> Response:
    asked = await payouts.ask(
        session,
        key=key,
        researcher_id=researcher_id,
        amount=amount,
        currency=currency.upper(),
        actor=principal.email,
    )
    await session.commit()
    said = "was asked for already" if asked.replayed else "asked for"
    flash(
        request, f"Payout {asked.key} of {money(asked.amount, asked.currency)} {said}.", "success"
    )
    return redirect("/bounty/payouts")


@router.post("/bounty/payouts/mark")
async def mark_payout(
    request: Request,
    session: SessionDep,
    key: Annotated[Text, Form(min_length=1, max_length=200)],
    paid: Annotated[bool, Form()],
    reference: Annotated[Text, Form(max_length=500)] = "",
    principal: Principal = require(FINANCE),
) -> Response:
    await payouts.mark(
        session, payout_key=key, paid=paid, actor=principal.email, reference=reference
    )
    await session.commit()
    flash(request, f"Payout {key} marked {'paid' if paid else 'failed'}.", "success")
    return redirect("/bounty/payouts")
