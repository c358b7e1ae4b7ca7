"""Who carried how much (pure): on-call hours per person over a window, and how many of them
were night or weekend hours in the zone of the shift (a follow-the-sun layer's own zone, else
the schedule's). Hours are elapsed time, so the 9-hour night (22:00 to 07:00) the clocks go
forward counts 8 hours and the one they go back 10, as it was lived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vulnops.oncall import schedule as pure

NIGHT_STARTS = time(22)
NIGHT_ENDS = time(7)
SATURDAY = 5


@dataclass
class Hours:
    total: float = 0.0
    night: float = 0.0
    weekend: float = 0.0
    shifts: int = 0


def _overlap(start: datetime, end: datetime, opens: datetime, closes: datetime) -> float:
    return max((min(end, closes) - max(start, opens)).total_seconds(), 0.0) / 3600


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    # In UTC: Python subtracts two times of one zone by their wall clocks, DST ignored.
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def split(start: datetime, end: datetime, tz: ZoneInfo) -> Hours:
    """The hours of [start, end), and which of them fell at night (22:00 to 07:00) or on a
    Saturday or Sunday, local time."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    hours = Hours(total=(end - start).total_seconds() / 3600, shifts=1)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        opens, closes = _at(day, time(), tz), _at(day + timedelta(days=1), time(), tz)
        hours.night += _overlap(start, end, opens, _at(day, NIGHT_ENDS, tz))
        hours.night += _overlap(start, end, _at(day, NIGHT_STARTS, tz), closes)
        if day.weekday() >= SATURDAY:
            hours.weekend += _overlap(start, end, opens, closes)
        day += timedelta(days=1)
    return hours


def zone_of(schedule: pure.Schedule, source: str | None) -> ZoneInfo:
    for layer in schedule.layers:
        if layer.name == source:
            return pure.layer_zone(schedule, layer)
    return pure.zone(schedule.time_zone)


def hours(
    finals: Iterable[tuple[pure.Schedule, pure.Final]],
) -> dict[str, Hours]:
    """Each person's hours over the final schedules (gaps belong to nobody)."""
    found: dict[str, Hours] = defaultdict(Hours)
    for schedule, final in finals:
        for shift in final.shifts:
            if shift.user is None:
                continue
            part = split(shift.start, shift.end, zone_of(schedule, shift.source))
            mine = found[shift.user]
            mine.total += part.total
            mine.night += part.night
            mine.weekend += part.weekend
            mine.shifts += 1
    return dict(found)
