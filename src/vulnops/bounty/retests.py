"""Retests: the team asks a report's researcher to check the fix, and the retest is paid by the
programme's rule — its award table's ``retest`` amount, fixed when the retest is asked, paid as
a bonus once the researcher answers (fixed or not: the work was done). Declining is not paid.
The ask and the answer are posted to the report's conversation. Callers commit.

The anchors' researchers complain that retests go unpaid; here the price is known up front.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.bounty import ledger, programs
from vulnops.bounty.models import BountyAward, BountyProgram, BountyRetest
from vulnops.bounty.tables import money
from vulnops.db.writes import add_unique
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.intake import messages
from vulnops.intake import service as intake
from vulnops.settings import Settings

OUTCOMES = ("fixed", "not_fixed", "declined")


async def request(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    ask: str,
    settings: Settings,
) -> BountyRetest:
    """Ask the report's researcher to retest the fix (the report has an approved award: its
    programme's rule prices the retest)."""
    report = await intake.visible_report(session, principal=principal, report_id=report_id)
    if not ask.strip():
        raise Invalid("ask: say what to retest")
    if report.reporter_id is None:
        raise Invalid("the report has no researcher's account to ask")
    award = await session.scalar(select(BountyAward).where(BountyAward.report_id == report.id))
    if award is None or award.status != "approved":
        raise Invalid("a retest is asked of a report with an approved award")
    program = await session.scalar(select(BountyProgram).where(BountyProgram.key == award.program))
    assert program is not None  # awards keep their programme (no programme is removed)
    table = programs.table_of(program)
    retest = BountyRetest(
        report_id=report.id,
        researcher_id=report.reporter_id,
        program=program.key,
        status="requested",
        amount=table.retest,
        currency=table.currency,
        ask=ask.strip(),
        requested_by=principal.email,
    )
    await add_unique(session, retest, conflict="a retest of this report already waits")
    paid = f" It pays {money(table.retest, table.currency)}." if table.retest else ""
    await messages.post(
        session,
        principal=principal,
        report_id=report.id,
        settings=settings,
        body=f"Please retest the fix: {retest.ask}{paid}",
    )
    await audit.record(
        session,
        subject=intake.subject(report),
        kind="bounty.retest_requested",
        actor=principal.actor,
        data={"retest": retest.id, "amount": retest.amount, "currency": retest.currency},
    )
    return retest


async def answer(
    session: AsyncSession,
    *,
    principal: Principal,
    retest_id: int,
    outcome: str,
    note: str,
    settings: Settings,
    now: datetime,
) -> BountyRetest:
    """The researcher's answer: ``fixed`` or ``not_fixed`` (paid), or ``declined``."""
    retest = await session.get(BountyRetest, retest_id, with_for_update=True)
    if retest is None or retest.researcher_id != principal.user_id:
        raise NotFound(f"no retest {retest_id}")
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome: one of {', '.join(OUTCOMES)}")
    if retest.status != "requested":
        raise Conflict(f"the retest was answered already: {retest.status}")
    if outcome != "declined" and not note.strip():
        raise Invalid("note: say what you tried and what you saw")
    retest.status, retest.answer, retest.completed_at = outcome, note.strip(), now
    await session.flush()
    if outcome != "declined" and retest.amount:
        await ledger.grant(
            session,
            key=f"retest:{retest.id}",
            researcher_id=retest.researcher_id,
            program=retest.program,
            amount=retest.amount,
            currency=retest.currency,
            actor=principal.email,
            reference=f"retest {retest.id}",
            bonus=True,
        )
    said = {"fixed": "The fix holds", "not_fixed": "The fix does not hold", "declined": "I decline"}
    await messages.post(
        session,
        principal=principal,
        report_id=retest.report_id,
        settings=settings,
        body=f"Retest: {said[outcome]}." + (f" {retest.answer}" if retest.answer else ""),
    )
    await audit.record(
        session,
        subject=f"report:{retest.report_id}",
        kind="bounty.retest_answered",
        actor=principal.actor,
        data={"retest": retest.id, "outcome": outcome},
    )
    return retest


async def for_report(session: AsyncSession, *, report_id: int) -> list[BountyRetest]:
    found = await session.scalars(
        select(BountyRetest)
        .where(BountyRetest.report_id == report_id)
        .order_by(BountyRetest.id.desc())
    )
    return list(found)
