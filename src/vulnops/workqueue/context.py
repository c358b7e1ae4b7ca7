"""What every section of a work queue is built from: the person, the time, one session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.settings import Settings
from vulnops.workqueue.schemas import QueueItem, QueueSection
from vulnops.workqueue.sections import ALARMS, SectionKey

SHOWN = 8  # items per section; the count says how many there are in all


@dataclass(frozen=True)
class Context:
    session: AsyncSession
    principal: Principal
    settings: Settings
    now: datetime


Builder = Callable[[Context], Awaitable[QueueSection]]


def section(
    key: SectionKey,
    title: str,
    count: int,
    items: list[QueueItem],
    *,
    more: str | None,
    empty: str,
) -> QueueSection:
    return QueueSection(
        key=key,
        title=title,
        count=count,
        alarm=key in ALARMS and count > 0,
        items=items,
        more_href=more,
        empty=empty,
    )
