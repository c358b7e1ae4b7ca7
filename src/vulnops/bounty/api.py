"""JSON API of the bug bounty: programmes, awards (propose, adjust, submit, decide), disputes,
and each researcher's own awards and balances (finance's routes: ``finance_api``)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.bounty import decisions, disputes, ledger, programs, reputation, retests
from vulnops.bounty.awards import Assessment
from vulnops.bounty.models import BountyAward, BountyProgram, BountyRetest
from vulnops.bounty.reputation import Standing
from vulnops.bounty.responsiveness import Milestone, responsiveness
from vulnops.bounty.schemas import (
    AwardView,
    Balance,
    DisputeView,
    ProgramView,
    RetestView,
)
from vulnops.bounty.tables import TableError, parse_table
from vulnops.db.bounded import Flag, Id, Input, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid, NotFound
from vulnops.intake import service as intake
from vulnops.intake.models import Report

router = APIRouter(prefix="/api/bounty", tags=["bounty"])
READ = allowed(Permission.BOUNTY_READ)
AWARD = allowed(Permission.BOUNTY_AWARD)
APPROVE = allowed(Permission.BOUNTY_APPROVE)
MANAGE = allowed(Permission.BOUNTY_MANAGE)
RESEARCHER = allowed(Permission.REPORTS_SUBMIT)


Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class In(Input):
    model_config = ConfigDict(extra="forbid")


class ProgramIn(In):
    key: Text = Field(min_length=1, max_length=100)
    name: Text = Field(default="", max_length=200)
    rules: Text = Field(default="", max_length=20_000)
    services: list[Text] = Field(default_factory=list, max_length=500)
    out_of_scope: list[Text] = Field(default_factory=list, max_length=100)
    award_table: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None = None


class AssessmentIn(In):
    impact: Text = Field(min_length=1, max_length=100)
    severity: Text = Field(min_length=1, max_length=100)
    quality: Text = Field(min_length=1, max_length=100)
    scenarios: list[Text] = Field(default_factory=list, max_length=20)
    co_reporters: dict[Id, Share] = Field(default_factory=dict, max_length=20)
    known_internally: Flag = False


class AdjustIn(In):
    amount: int = Field(ge=0, le=10**15)
    reason: Text = Field(min_length=1, max_length=2000)


class DecideIn(In):
    approve: Flag
    comment: Text | None = Field(default=None, max_length=2000)


class DisputeIn(In):
    reason: Text = Field(min_length=1, max_length=5000)


class AnswerIn(In):
    answer: Text = Field(min_length=1, max_length=5000)


class RetestIn(In):
    ask: Text = Field(min_length=1, max_length=5000)


class RetestAnswerIn(In):
    outcome: Literal["fixed", "not_fixed", "declined"]
    note: Text = Field(default="", max_length=5000)


class ProgramOut(ProgramView):
    retest_amount: int  # minor units
    responsiveness: list[Milestone]


class MyAward(BaseModel):
    report: str  # its tracking id
    status: str
    amount: int
    currency: str
    impact: str
    severity: str
    quality: str
    reasons: list[str]
    my_share: int


class MineOut(BaseModel):
    awards: list[MyAward]
    balances: list[Balance]
    retests: list[RetestView]
    standing: Standing


def now() -> datetime:
    return datetime.now(UTC)


@router.get("/programs")
async def list_programs(
    session: SessionDep, principal: Principal = require(READ)
) -> list[ProgramView]:
    """Every programme, by key."""
    found = await session.scalars(select(BountyProgram).order_by(BountyProgram.key))
    return [programs.view(p) for p in found]


@router.post("/programs", status_code=201)
async def create_program(
    data: ProgramIn, session: SessionDep, principal: Principal = require(MANAGE)
) -> ProgramView:
    """A programme with its scope and award table (refused with what is wrong in the table)."""
    try:
        table = parse_table(data.award_table, source="award_table")
    except TableError as error:
        raise Invalid(str(error)) from None
    created = await programs.create_program(
        session,
        key=data.key,
        name=data.name,
        rules=data.rules,
        table=table,
        scope=programs.Scope(services=data.services, out_of_scope=data.out_of_scope),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        actor=principal.email,
    )
    await session.commit()
    return created


@router.get("/programs/{key}")
async def get_program(
    key: Text, session: SessionDep, principal: Principal = require(READ)
) -> ProgramOut:
    """A programme, its retest rule and its responsiveness (median and 90th percentile)."""
    program = await session.scalar(select(BountyProgram).where(BountyProgram.key == key))
    if program is None:
        raise NotFound(f"no programme {key!r}")
    return ProgramOut(
        **programs.view(program).model_dump(),
        retest_amount=programs.table_of(program).retest,
        responsiveness=await responsiveness(session, program=program, now=now()),
    )


async def _staff_award(session: SessionDep, principal: Principal, award_id: int) -> BountyAward:
    award = await session.get(BountyAward, award_id)
    if award is None:
        raise NotFound(f"no award {award_id}")
    await intake.visible_report(session, principal=principal, report_id=award.report_id)
    return award


@router.post("/reports/{report_id}/award", status_code=201)
async def propose_award(
    report_id: Id,
    data: AssessmentIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(AWARD),
) -> AwardView:
    """The table's proposal for a triaged report, with its reasons (nothing is granted yet)."""
    await intake.visible_report(session, principal=principal, report_id=report_id)
    shares = {
        who: Fraction(share).limit_denominator(10_000) for who, share in data.co_reporters.items()
    }
    proposed = await decisions.propose(
        session,
        report_id=report_id,
        assessment=Assessment(data.impact, data.severity, data.quality, tuple(data.scenarios)),
        actor=principal.email,
        settings=request.app.state.settings,
        now=now(),
        co_reporters=shares or None,
        known_internally=data.known_internally,
    )
    await session.commit()
    return proposed


@router.get("/awards/{award_id}")
async def get_award(
    award_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> AwardView:
    return decisions.view(await _staff_award(session, principal, award_id))


@router.post("/awards/{award_id}/adjust")
async def adjust_award(
    award_id: Id, data: AdjustIn, session: SessionDep, principal: Principal = require(AWARD)
) -> AwardView:
    """Set the amount by hand, with the reason."""
    await _staff_award(session, principal, award_id)
    adjusted = await decisions.adjust(
        session, award_id=award_id, amount=data.amount, reason=data.reason, actor=principal.email
    )
    await session.commit()
    return adjusted


@router.post("/awards/{award_id}/submit")
async def submit_award(
    award_id: Id, request: Request, session: SessionDep, principal: Principal = require(AWARD)
) -> AwardView:
    """Grant it, or ask a second person to approve it above the configured amount."""
    await _staff_award(session, principal, award_id)
    submitted = await decisions.submit(
        session,
        award_id=award_id,
        actor=principal.email,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    return submitted


@router.post("/awards/{award_id}/decide")
async def decide_award(
    award_id: Id,
    data: DecideIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(APPROVE),
) -> AwardView:
    """Approve (the award is granted) or reject (say why) an award waiting for approval."""
    await _staff_award(session, principal, award_id)
    decided = await decisions.decide(
        session,
        award_id=award_id,
        actor=principal.email,
        approve=data.approve,
        comment=data.comment,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    return decided


@router.get("/me")
async def my_awards(session: SessionDep, principal: Principal = require(RESEARCHER)) -> MineOut:
    """The signed-in researcher's own awards, whatever their state, and balances."""
    rows = await session.execute(
        select(BountyAward, Report.tracking_id)
        .join(Report, Report.id == BountyAward.report_id)
        .where(BountyAward.split.has_key(str(principal.user_id)))
        .order_by(BountyAward.id)
    )
    awards = [
        MyAward(
            report=tracking_id,
            status=award.status,
            amount=award.amount,
            currency=award.currency,
            impact=award.impact,
            severity=award.severity,
            quality=award.quality,
            reasons=list(award.reasons),
            my_share=int(award.split[str(principal.user_id)]),
        )
        for award, tracking_id in rows.all()
    ]
    balances = await ledger.balances(session, researcher_id=principal.user_id)
    asked = await session.scalars(
        select(BountyRetest)
        .where(BountyRetest.researcher_id == principal.user_id)
        .order_by(BountyRetest.id.desc())
        .limit(100)
    )
    standing = await reputation.standing(
        session, researcher_id=principal.user_id, period=reputation.quarter(now())
    )
    return MineOut(
        awards=awards,
        balances=balances,
        retests=[RetestView.model_validate(r, from_attributes=True) for r in asked],
        standing=standing,
    )


@router.post("/me/reports/{report_id}/dispute", status_code=201)
async def dispute(
    report_id: Id,
    data: DisputeIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(RESEARCHER),
) -> DisputeView:
    """Dispute your report's award, or its closure: staff answer within the set business days."""
    opened = await disputes.open_dispute(
        session,
        principal=principal,
        report_id=report_id,
        reason=data.reason,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    return DisputeView.model_validate(opened, from_attributes=True)


@router.get("/disputes")
async def list_disputes(
    session: SessionDep, principal: Principal = require(READ)
) -> list[DisputeView]:
    """The disputes waiting for an answer, the nearest deadline first."""
    found = await disputes.open_disputes(session, viewer=principal)
    return [DisputeView.model_validate(d, from_attributes=True) for d in found]


@router.post("/disputes/{dispute_id}/answer")
async def answer_dispute(
    dispute_id: Id,
    data: AnswerIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(AWARD),
) -> DisputeView:
    """Answer a dispute (the answer is posted to the report's conversation too)."""
    answered = await disputes.answer_dispute(
        session,
        principal=principal,
        dispute_id=dispute_id,
        answer=data.answer,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    return DisputeView.model_validate(answered, from_attributes=True)


@router.post("/reports/{report_id}/retests", status_code=201)
async def request_retest(
    report_id: Id,
    data: RetestIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(AWARD),
) -> RetestView:
    """Ask the report's researcher to retest the fix, at the programme's retest price."""
    asked = await retests.request(
        session,
        principal=principal,
        report_id=report_id,
        ask=data.ask,
        settings=request.app.state.settings,
    )
    await session.commit()
    return RetestView.model_validate(asked, from_attributes=True)


@router.post("/me/retests/{retest_id}")
async def answer_retest(
    retest_id: Id,
    data: RetestAnswerIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(RESEARCHER),
) -> RetestView:
    """Your retest's outcome (fixed or not fixed: paid), or decline it."""
    answered = await retests.answer(
        session,
        principal=principal,
        retest_id=retest_id,
        outcome=data.outcome,
        note=data.note,
        settings=request.app.state.settings,
        now=now(),
    )
    await session.commit()
    return RetestView.model_validate(answered, from_attributes=True)
