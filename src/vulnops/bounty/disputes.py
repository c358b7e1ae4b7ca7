"""Disputes: a researcher who disagrees with their report's award or its closure says why, and
staff must answer within ``VULNOPS_BOUNTY_DISPUTE_BUSINESS_DAYS`` business days. The reason and
the answer are also posted to the report's conversation, so the researcher reads them where
they already talk with the team. Callers commit.

The anchors' researchers complain that a closure cannot be disputed; here any report of theirs
that has an award, or was closed, can be — one open dispute at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.bounty.models import BountyAward, BountyDispute
from vulnops.cases import access
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.intake import messages
from vulnops.intake import service as intake
from vulnops.intake.models import Report
from vulnops.intake.states import ReportState
from vulnops.settings import Settings


def due(opened: datetime, business_days: int) -> datetime:
    """The end of the ``business_days``-th business day (Monday to Friday) after ``opened``,
    in UTC (numpy's business-day calendar)."""
    day = np.busday_offset(np.datetime64(opened.date(), "D"), business_days, roll="forward")
    return datetime.combine(day.astype(object), time(23, 59, 59), tzinfo=UTC)


async def open_dispute(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    reason: str,
    settings: Settings,
    now: datetime,
) -> BountyDispute:
    report = await intake.visible_report(session, principal=principal, report_id=report_id)
    if report.reporter_id != principal.user_id:
        raise NotFound(f"no report {report_id}")  # staff answer disputes; they do not open them
    if not reason.strip():
        raise Invalid("reason: say what you disagree with")
    award = await session.scalar(select(BountyAward).where(BountyAward.report_id == report.id))
    if award is not None:
        about = "award"
    elif report.state == ReportState.CLOSED.value:
        about = "closure"
    else:
        raise Invalid("there is nothing to dispute yet: the report has no award and is not closed")
    waiting = await session.scalar(
        select(BountyDispute.id).where(
            BountyDispute.report_id == report.id, BountyDispute.status == "open"
        )
    )
    if waiting is not None:
        raise Conflict("a dispute of this report already waits for an answer")
    dispute = BountyDispute(
        report_id=report.id,
        opened_by=principal.user_id,
        about=about,
        reason=reason.strip(),
        due_at=due(now, settings.bounty_dispute_business_days),
    )
    session.add(dispute)
    await session.flush()
    await messages.post(
        session,
        principal=principal,
        report_id=report.id,
        settings=settings,
        body=f"I dispute the {about}: {dispute.reason}",
    )
    await audit.record(
        session,
        subject=intake.subject(report),
        kind="bounty.dispute_opened",
        actor=principal.actor,
        data={"dispute": dispute.id, "about": about, "due_at": dispute.due_at.isoformat()},
    )
    return dispute


async def answer_dispute(
    session: AsyncSession,
    *,
    principal: Principal,
    dispute_id: int,
    answer: str,
    settings: Settings,
    now: datetime,
) -> BountyDispute:
    dispute = await session.get(BountyDispute, dispute_id, with_for_update=True)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id}")
    await intake.visible_report(session, principal=principal, report_id=dispute.report_id)
    if dispute.status != "open":
        raise Conflict("the dispute was already answered")
    if not answer.strip():
        raise Invalid("answer: say what was decided, and why")
    dispute.status, dispute.answer = "answered", answer.strip()
    dispute.answered_by, dispute.answered_at = principal.email, now
    await session.flush()
    await messages.post(
        session,
        principal=principal,
        report_id=dispute.report_id,
        settings=settings,
        body=f"About your dispute of the {dispute.about}: {dispute.answer}",
    )
    await audit.record(
        session,
        subject=f"report:{dispute.report_id}",
        kind="bounty.dispute_answered",
        actor=principal.actor,
        data={"dispute": dispute.id, "late": now > dispute.due_at},
    )
    return dispute


async def open_disputes(
    session: AsyncSession, *, viewer: Principal, limit: int = 100
) -> list[BountyDispute]:
    """The disputes waiting for an answer that the viewer may see, the nearest deadline first
    (a restricted case's are its team's)."""
    query = (
        select(BountyDispute)
        .join(Report, Report.id == BountyDispute.report_id)
        .where(BountyDispute.status == "open")
        .order_by(BountyDispute.due_at, BountyDispute.id)
        .limit(limit)
    )
    hidden = access.hidden_case_ids(viewer)
    if hidden is not None:
        query = query.where(or_(Report.case_id.is_(None), Report.case_id.not_in(hidden)))
    return list(await session.scalars(query))
