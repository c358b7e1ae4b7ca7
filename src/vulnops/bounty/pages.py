"""What the bounty shows on a report's page (joined in :mod:`vulnops.wiring`): its award and
what each reader may do with it — staff propose, adjust, submit, approve, ask for a retest and
answer a dispute; the researcher sees the award, their share and balance, disputes it, and
answers a retest. The forms post to :mod:`vulnops.bounty.forms`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.bounty import decisions, ledger, programs, retests
from vulnops.bounty.models import BountyDispute
from vulnops.bounty.tables import money
from vulnops.intake.models import Report
from vulnops.intake.states import ReportState


async def report_panel(
    *, session: AsyncSession, report: Report, principal: Principal
) -> dict[str, Any] | None:
    award = await decisions.for_report(session, report_id=report.id)
    reporter = report.reporter_id is not None and report.reporter_id == principal.user_id
    mine = award is not None and principal.user_id in award.split
    staff = principal.can(Permission.BOUNTY_READ)
    if not (staff or reporter):
        return None
    dispute = await session.scalar(
        select(BountyDispute)
        .where(BountyDispute.report_id == report.id)
        .order_by(BountyDispute.id.desc())
        .limit(1)
    )
    asked = await retests.for_report(session, report_id=report.id)
    closed = report.state == ReportState.CLOSED.value
    if reporter and not staff and award is None and dispute is None and not asked and not closed:
        return None  # nothing to show the researcher yet
    table = None
    if staff and award is None and ReportState(report.state) in decisions.ASSESSED:
        found = await programs.eligible(session, service=report.service, now=datetime.now(UTC))
        table = programs.table_of(found[0]) if found else None
    balance = (
        await ledger.balance(session, researcher_id=principal.user_id, currency=award.currency)
        if mine and award is not None
        else None
    )
    open_dispute = dispute is not None and dispute.status == "open"
    return {
        "report": report,
        "award": award,
        "share": award.split.get(principal.user_id) if award else None,
        "balance": balance,
        "dispute": dispute,
        "retests": asked,
        "table": table,
        "reporter": reporter,
        "can_award": principal.can(Permission.BOUNTY_AWARD),
        "can_approve": principal.can(Permission.BOUNTY_APPROVE),
        "can_dispute": reporter and not open_dispute and (award is not None or closed),
        "money": money,
    }
