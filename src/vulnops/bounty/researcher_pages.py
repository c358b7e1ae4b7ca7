"""A researcher's bounty page (their awards, balances, payouts, retests, standing and their
consent to the hall of fame) and the public hall of fame."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC
from vulnops.bounty import ledger, payouts, reputation
from vulnops.bounty.api import RESEARCHER, now
from vulnops.bounty.models import BountyAward, BountyHallOfFame, BountyRetest
from vulnops.bounty.tables import money
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.intake.models import Report
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/bounty/me", response_class=HTMLResponse)
async def my_bounty(
    request: Request,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(RESEARCHER),
) -> HTMLResponse:
    me = principal.user_id
    awards = await session.execute(
        select(BountyAward, Report.tracking_id, Report.title)
        .join(Report, Report.id == BountyAward.report_id)
        .where(BountyAward.split.has_key(str(me)))
        .order_by(BountyAward.id.desc())
        .limit(200)
    )
    asked = await session.scalars(
        select(BountyRetest)
        .where(BountyRetest.researcher_id == me, BountyRetest.status == "requested")
        .order_by(BountyRetest.id)
    )
    return render(
        request,
        "bounty/mine.html",
        {
            "awards": awards.all(),
            "balances": await ledger.balances(session, researcher_id=me),
            "payouts": await payouts.list_payouts(session, page=page, researcher_id=me),
            "retests": list(asked),
            "standing": await reputation.standing(
                session, researcher_id=me, period=reputation.quarter(now())
            ),
            "fame": await session.get(BountyHallOfFame, me),
            "money": money,
            "page_url": lambda number: f"/bounty/me?page={number}",
        },
    )


@router.post("/bounty/me/hall-of-fame")
async def name_me(
    request: Request,
    session: SessionDep,
    public_name: Annotated[Text, Form(max_length=100)],
    listed: Annotated[bool, Form()] = False,
    principal: Principal = require(RESEARCHER),
) -> Response:
    await reputation.name_publicly(
        session, researcher_id=principal.user_id, public_name=public_name, listed=listed, now=now()
    )
    await session.commit()
    said = f"You are named {public_name.strip()!r}" if listed else "You are not named"
    flash(request, f"{said} in the hall of fame.", "success")
    return redirect("/bounty/me")


@router.get("/hall-of-fame", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def hall_of_fame(
    request: Request,
    session: SessionDep,
    period: Annotated[Text | None, Query(max_length=7)] = None,
) -> HTMLResponse:
    """The public hall of fame: the quarter's and the year's researchers who chose to be named."""
    at = now()
    quarter, year = reputation.quarter(at), str(at.year)
    chosen = reputation.check_period(period) if period else quarter
    return render(
        request,
        "bounty/hall_of_fame.html",
        {
            "period": chosen,
            "periods": [quarter, year, "all"],
            "leaders": await reputation.leaderboard(session, period=chosen, limit=100, public=True),
        },
    )
