"""What every approve and reject route does: the domain's decision, now, committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.settings import Settings

T = TypeVar("T")
# A domain's decision: (session, *, case_id, actor, approve, comment, settings, now) -> its object.
Decide = Callable[..., Awaitable[T]]


async def decided(
    session: AsyncSession,
    decide: Decide[T],
    *,
    case_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
) -> T:
    result = await decide(
        session,
        case_id=case_id,
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=datetime.now(UTC),
    )
    await session.commit()
    return result
