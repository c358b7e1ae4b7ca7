"""JSON API of recognition: the leaderboards (staff), the hall of fame (public: only those who
chose to be named, under their chosen name), and a researcher's consent to be named."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, Permission, allowed
from vulnops.bounty import reputation
from vulnops.bounty.api import In, now
from vulnops.bounty.reputation import Leader
from vulnops.db.bounded import Flag, Text
from vulnops.db.deps import SessionDep

router = APIRouter(prefix="/api/bounty", tags=["bounty"])
READ = allowed(Permission.BOUNTY_READ)
RESEARCHER = allowed(Permission.REPORTS_SUBMIT)
Period = Query(
    default=None, max_length=7, description="2026, 2026-Q4 or all; default: now's quarter"
)


class HallOfFameIn(In):
    public_name: Text = Field(min_length=1, max_length=100)
    listed: Flag = True


class Famed(BaseModel):
    rank: int
    name: str  # the name the researcher chose
    points: int


class HallOfFameOut(BaseModel):
    public_name: str
    listed: bool


@router.get("/leaderboard")
async def leaderboard(
    session: SessionDep,
    period: Text | None = Period,
    limit: int = Query(default=25, ge=1, le=100),
    principal: Principal = require(READ),
) -> list[Leader]:
    """The period's top researchers, named or not (staff only)."""
    return await reputation.leaderboard(
        session, period=period or reputation.quarter(now()), limit=limit, public=False
    )


@router.get("/hall-of-fame", dependencies=[require(PUBLIC)])
async def hall_of_fame(
    session: SessionDep,
    period: Text | None = Period,
    limit: int = Query(default=25, ge=1, le=100),
) -> list[Famed]:
    """The period's top researchers who chose to be named, under their chosen names."""
    leaders = await reputation.leaderboard(
        session, period=period or reputation.quarter(now()), limit=limit, public=True
    )
    return [Famed(rank=one.rank, name=one.name, points=one.points) for one in leaders]


@router.put("/me/hall-of-fame")
async def name_me(
    data: HallOfFameIn, session: SessionDep, principal: Principal = require(RESEARCHER)
) -> HallOfFameOut:
    """Be named in the hall of fame (or, ``listed`` false, be taken off it)."""
    entry = await reputation.name_publicly(
        session,
        researcher_id=principal.user_id,
        public_name=data.public_name,
        listed=data.listed,
        now=now(),
    )
    await session.commit()
    return HallOfFameOut(public_name=entry.public_name, listed=entry.listed)
