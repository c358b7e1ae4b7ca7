"""The calendar's days and the hours report, pure: local days across DST, night and weekend
hours as they were lived, and a month's hours adding up to the month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vulnops.oncall import agenda, fairness
from vulnops.oncall import schedule as pure

PARIS = ZoneInfo("Europe/Paris")


def _weekly(*users: str, zone: str = "Europe/Paris") -> pure.Schedule:
    layer = pure.Layer(
        name="weekly",
        start=datetime(2027, 1, 4, 9, 0),
        rotation="weekly",
        memberships=(pure.Membership(users=users),),
    )
    return pure.Schedule(key="primary", time_zone=zone, layers=(layer,))


def test_a_weekend_shift_counts_its_nights_and_its_weekend() -> None:
    # Friday 18:00 to Monday 09:00 in Paris (winter): 63 hours.
    start = datetime(2027, 1, 8, 18, 0, tzinfo=PARIS)
    hours = fairness.split(start, datetime(2027, 1, 11, 9, 0, tzinfo=PARIS), PARIS)
    assert hours.total == 63
    # Fri 22-24, Sat 0-7 and 22-24, Sun 0-7 and 22-24, Mon 0-7.
    assert hours.night == 2 + 9 + 9 + 7
    assert hours.weekend == 48


def test_the_night_the_clocks_go_forward_is_an_hour_shorter() -> None:
    # Saturday 27 March 2027, 22:00, to Sunday 07:00 in Paris: 02:00 becomes 03:00.
    start = datetime(2027, 3, 27, 22, 0, tzinfo=PARIS)
    hours = fairness.split(start, datetime(2027, 3, 28, 7, 0, tzinfo=PARIS), PARIS)
    assert hours.total == 8 and hours.night == 8 and hours.weekend == 8


def test_a_months_hours_add_up_to_the_month_and_split_by_the_rotation() -> None:
    schedule = _weekly("alice", "bob")
    start, end = datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    final = pure.final(schedule, start, end)
    carried = fairness.hours([(schedule, final)])
    assert sum(h.total for h in carried.values()) == pytest.approx(31 * 24)
    # A weekly rotation of two over 31 days: one has 2 weeks and some, the other the rest.
    assert sorted(carried) == ["alice", "bob"]
    assert all(h.night > 0 and h.weekend > 0 for h in carried.values())
    nights = sum(h.night for h in carried.values())
    # 31 nights of 9 hours, less the hour lost on 28 March; the month's edges are UTC midnights,
    # Paris 01:00 and 02:00: the first night's first hour or two falls outside.
    assert nights == pytest.approx(31 * 9 - 1 - 1 + 2)


def test_a_follow_the_sun_layer_counts_night_in_its_own_zone() -> None:
    sydney = pure.Layer(
        name="apac",
        start=datetime(2027, 1, 4, 8, 0),
        rotation="daily",
        memberships=(pure.Membership(users=("kim",)),),
        time_zone="Australia/Sydney",
    )
    schedule = pure.Schedule(key="sun", time_zone="Europe/Paris", layers=(sydney,))
    assert fairness.zone_of(schedule, "apac") == ZoneInfo("Australia/Sydney")
    assert fairness.zone_of(schedule, pure.OVERRIDE) == PARIS


def test_the_calendar_cuts_shifts_at_local_midnight_and_keeps_every_hour() -> None:
    schedule = _weekly("alice", "bob")
    first = date(2027, 3, 22)
    opens, closes = agenda.window(first, 14, PARIS)
    final = pure.final(schedule, opens, closes)
    days = agenda.days(final, first, 14, PARIS)
    assert [d.day for d in days] == [first + timedelta(days=n) for n in range(14)]
    # Elapsed time (Python subtracts two times of one zone by their wall clocks).
    lengths = {
        d.day: sum((p.end.astimezone(UTC) - p.start.astimezone(UTC) for p in d.parts), timedelta())
        for d in days
    }
    assert lengths[date(2027, 3, 28)] == timedelta(hours=23)  # the clocks go forward
    assert all(v == timedelta(hours=24) for k, v in lengths.items() if k != date(2027, 3, 28))
    # The bars: each part where its elapsed time begins in the day, the parts filling it.
    for day in days:
        assert day.seconds == lengths[day.day].total_seconds()
        assert sum(p.seconds for p in day.parts) == day.seconds
        starts = [sum(p.seconds for p in day.parts[:n]) for n in range(len(day.parts))]
        assert [p.offset for p in day.parts] == starts
    monday = next(d for d in days if d.day == date(2027, 3, 29))
    assert [(p.start.hour, p.shift.user) for p in monday.parts] == [(0, "bob"), (9, "alice")]
    for day in days:
        for before, after in zip(day.parts, day.parts[1:], strict=False):
            assert before.end == after.start


def test_the_calendar_refuses_too_many_days() -> None:
    with pytest.raises(pure.ScheduleError, match="days"):
        agenda.window(date(2027, 3, 1), agenda.MAX_DAYS + 1, PARIS)
