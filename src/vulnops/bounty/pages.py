"""What the bounty shows on other domains' pages (joined in :mod:`vulnops.wiring`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.bounty import decisions, ledger
from vulnops.bounty.tables import money
from vulnops.intake.models import Report


async def report_panel(
    *, session: AsyncSession, report: Report, principal: Principal
) -> dict[str, Any] | None:
    """A report's award, for its reporters and for staff who see awards: its state, amount,
    table row and reasons, and the reporter's own share and balance."""
    award = await decisions.for_report(session, report_id=report.id)
    mine = award is not None and principal.user_id in award.split
    if award is None or not (mine or principal.can(Permission.BOUNTY_READ)):
        return None
    balance = (
        await ledger.balance(session, researcher_id=principal.user_id, currency=award.currency)
        if mine
        else None
    )
    return {
        "award": award,
        "share": award.split.get(principal.user_id),
        "balance": balance,
        "money": money,
    }
