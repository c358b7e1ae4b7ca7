"""The on-call report of a month: per person, the hours on call (night and weekend hours among
them, from :mod:`~vulnops.oncall.fairness`), the pages they were told of, those they
acknowledged, and how long acknowledging took (median and slowest, from the page being raised).
The month is a calendar month in UTC; the schedules' own zones decide what is night."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import Invalid
from vulnops.oncall import fairness, service
from vulnops.oncall import schedule as pure

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class PersonMonth:
    user: str
    hours: float
    night_hours: float
    weekend_hours: float
    shifts: int
    pages: int
    acknowledged: int
    ack_median_minutes: float | None
    ack_slowest_minutes: float | None


@dataclass(frozen=True)
class MonthReport:
    month: str
    start: datetime
    end: datetime
    people: list[PersonMonth]


def month_window(month: str) -> tuple[datetime, datetime]:
    matched = _MONTH.match(month)
    if matched is None or not 1 <= int(matched[2]) <= 12:
        raise Invalid(f"month: {month!r} is not a month (YYYY-MM)")
    year, number = int(matched[1]), int(matched[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(f"month: from {FIRST_YEAR} to {LAST_YEAR}")
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


_PAGES = """
WITH told AS (
    SELECT DISTINCT n.page_id, u.email
    FROM page_notifications n
    JOIN pages p ON p.id = n.page_id
    JOIN users u ON u.id = n.user_id
    WHERE p.created_at >= :start AND p.created_at < :end
), acked AS (
    SELECT acknowledged_by AS email,
           extract(epoch FROM acknowledged_at - created_at) / 60 AS minutes
    FROM pages
    WHERE created_at >= :start AND created_at < :end AND acknowledged_by IS NOT NULL
), events AS (
    SELECT email, 1 AS told, NULL::numeric AS minutes FROM told
    UNION ALL
    SELECT email, 0, minutes FROM acked
)
SELECT email,
       sum(told) AS pages,
       count(minutes) AS acknowledged,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median,
       max(minutes) AS slowest
FROM events
GROUP BY email
"""


async def month_report(session: AsyncSession, *, month: str) -> MonthReport:
    """The month's report, one row per person who was on call or paged, most hours first."""
    start, end = month_window(month)
    service.within_reach(start, end, now=datetime.now(UTC))
    stored = await service.load_many(session, around=(start, end))
    finals = [(s.schedule, pure.final(s.schedule, start, end, disabled=s.disabled)) for s in stored]
    carried = fairness.hours(finals)
    paged = {
        row.email: row for row in await session.execute(text(_PAGES), {"start": start, "end": end})
    }
    people = []
    for email in sorted(set(carried) | set(paged)):
        hours = carried.get(email, fairness.Hours())
        row = paged.get(email)
        people.append(
            PersonMonth(
                user=email,
                hours=round(hours.total, 2),
                night_hours=round(hours.night, 2),
                weekend_hours=round(hours.weekend, 2),
                shifts=hours.shifts,
                pages=int(row.pages) if row else 0,
                acknowledged=int(row.acknowledged) if row else 0,
                ack_median_minutes=_minutes(row.median) if row else None,
                ack_slowest_minutes=_minutes(row.slowest) if row else None,
            )
        )
    people.sort(key=lambda person: (-person.hours, person.user))
    return MonthReport(month=month, start=start, end=end, people=people)


def _minutes(value: object) -> float | None:
    return None if value is None else round(float(str(value)), 1)
