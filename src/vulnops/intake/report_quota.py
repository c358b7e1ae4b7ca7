"""The reports one account may submit within an hour: researchers
``reports_per_hour_per_account`` (60), partners ``partner_reports_per_hour_per_account`` (none by
default: a partner is an organisation an administrator signed up, often relaying many
researchers); staff's internal findings are never limited.

The check reads one index: the account's ``limit``-th newest report of the last hour, walked to
on ``ix_reports_reporter_received`` (reporter, received) — at most ``limit`` entries, however many
reports the account has. When there is one, the quota is full until that report is an hour old,
which is the Retry-After. A limited account's submissions take their turn (a lock held until the
submission commits): concurrent ones cannot all see room for one more.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.errors import RateLimited
from vulnops.intake.models import Report
from vulnops.intake.states import Source
from vulnops.settings import Settings

WINDOW = timedelta(hours=1)

_SERIALIZE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def limit_for(source: Source, settings: Settings) -> int:
    """Reports an hour for a submission from ``source``; 0: no limit."""
    if source is Source.RESEARCHER:
        return settings.reports_per_hour_per_account
    if source is Source.PARTNER:
        return settings.partner_reports_per_hour_per_account
    return 0


async def admit(
    session: AsyncSession, *, principal: Principal, source: Source, settings: Settings
) -> None:
    """Raise 429 (nothing written) when the account has submitted its hour's reports."""
    limit = limit_for(source, settings)
    if not limit:
        return
    await session.execute(_SERIALIZE, {"key": f"reports-account:{principal.user_id}"})
    full = (
        await session.execute(
            select(Report.received_at, func.now())
            .where(
                Report.reporter_id == principal.user_id,
                Report.received_at > func.now() - WINDOW,
            )
            .order_by(Report.received_at.desc())
            .offset(limit - 1)
            .limit(1)
        )
    ).one_or_none()
    if full is None:
        return
    oldest, now = full
    wait = max(1, math.ceil((oldest + WINDOW - now).total_seconds()))
    raise RateLimited(
        f"this account's quota of reports is used up ({limit} within the last hour); the "
        f"next one is possible in {wait} s",
        retry_after=wait,
    )
