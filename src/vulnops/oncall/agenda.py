"""A schedule's coming weeks day by day in its zone (pure): the calendar view of its page.

Each day lists the parts of the final schedule's shifts that fall in it, in local time, with the
shift each part belongs to (what "take this shift" and "cover for me" act on) — an override and
a gap are shown as such. A day is a local calendar day, so a DST change makes one 23 or 25 hours
long and nothing is lost or doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vulnops.oncall import schedule as pure

MAX_DAYS = 56


@dataclass(frozen=True)
class Part:
    """The part of ``shift`` on one day, from ``start`` to ``end`` (local times)."""

    start: datetime
    end: datetime
    shift: pure.Shift
    offset: float  # seconds of elapsed time from the day's start (where its bar begins)
    seconds: float

    @property
    def is_override(self) -> bool:
        return self.shift.source == pure.OVERRIDE

    @property
    def is_gap(self) -> bool:
        return self.shift.user is None


@dataclass(frozen=True)
class Day:
    day: date
    parts: tuple[Part, ...]
    seconds: float  # 82,800 or 90,000 on the day of a DST change


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def window(first: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants that open the first day and close the last one."""
    if not 1 <= days <= MAX_DAYS:
        raise pure.ScheduleError(f"days: from 1 to {MAX_DAYS}")
    return local_midnight(first, tz), local_midnight(first + timedelta(days=days), tz)


def days(final: pure.Final, first: date, count: int, tz: ZoneInfo) -> list[Day]:
    """The final schedule (computed over :func:`window`) cut at each local midnight."""
    found = []
    shifts = final.shifts
    index = 0
    for offset in range(count):
        day = first + timedelta(days=offset)
        opens, closes = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
        while index < len(shifts) and shifts[index].end <= opens:
            index += 1
        parts = []
        for shift in shifts[index:]:
            if shift.start >= closes:
                break
            begins, ends = max(shift.start, opens), min(shift.end, closes)
            parts.append(
                Part(
                    begins.astimezone(tz),
                    ends.astimezone(tz),
                    shift,
                    _elapsed(opens, begins),
                    _elapsed(begins, ends),
                )
            )
        found.append(Day(day, tuple(parts), _elapsed(opens, closes)))
    return found


def _elapsed(start: datetime, end: datetime) -> float:
    # In UTC: Python subtracts two times of one zone by their wall clocks, DST ignored.
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
