"""The pure schedule: hand-offs at local time across DST, one person per layer at every instant,
overrides, restrictions and gaps, rotations that do not reset, and refusals of bad schedules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnops.oncall.schedule import (
    Layer,
    Membership,
    Override,
    Restriction,
    Schedule,
    ScheduleError,
    Shift,
    final,
    layer_shifts,
    rebased,
    who,
)

PARIS = ZoneInfo("Europe/Paris")
USERS = ("alice@example.com", "bob@example.com", "carol@example.com")
MARCH = datetime(2027, 3, 1, 9, 0)  # a Monday, 09:00 in Paris


def _weekly(users: tuple[str, ...] = USERS, **extra: object) -> Layer:
    return Layer("weekly", MARCH, "weekly", (Membership(users),), **extra)  # type: ignore[arg-type]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def _joined(shifts: tuple[Shift, ...]) -> list[tuple[datetime, datetime, str | None]]:
    """Adjacent shifts of one user as one (what the final schedule shows)."""
    out: list[tuple[datetime, datetime, str | None]] = []
    for shift in shifts:
        if out and out[-1][2] == shift.user and out[-1][1] == shift.start:
            out[-1] = (out[-1][0], shift.end, shift.user)
        else:
            out.append((shift.start, shift.end, shift.user))
    return out


def test_weekly_hand_offs_stay_at_nine_in_paris_across_both_changes() -> None:
    """Spring (28 March 2027) and autumn (31 October 2027): the hand-off is 09:00 local each
    Monday, so the shift over a change lasts 167 or 169 hours and no hour is lost or doubled."""
    begin, end = _paris(2027, 3, 1, 9), _paris(2027, 11, 15, 9)
    shifts = final(Schedule("primary", "Europe/Paris", (_weekly(),)), begin, end).shifts
    assert all(s.start.astimezone(PARIS).time() == time(9) for s in shifts)
    assert all(s.start.astimezone(PARIS).weekday() == 0 for s in shifts)
    lengths = {s.start.astimezone(PARIS).date().isoformat(): s.end - s.start for s in shifts}
    assert lengths["2027-03-22"] == timedelta(hours=167)  # spring: an hour shorter
    assert lengths["2027-10-25"] == timedelta(hours=169)  # autumn: an hour longer
    assert lengths["2027-03-29"] == timedelta(hours=168)
    assert [s.user for s in shifts[:4]] == [*USERS, USERS[0]]
    assert sum((s.end - s.start for s in shifts), timedelta()) == end - begin


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Sydney"]),
    rotation=st.sampled_from(["hourly", "daily", "weekly", "FREQ=DAILY;INTERVAL=2"]),
    start=st.datetimes(datetime(2026, 1, 1), datetime(2028, 1, 1)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    users=st.integers(1, 4),
    offset_hours=st.integers(0, 24 * 400),
    hours=st.integers(1, 24 * 40),
)
def test_at_every_instant_exactly_one_person_per_layer_and_hand_offs_at_local_time(
    zone: str, rotation: str, start: datetime, users: int, offset_hours: int, hours: int
) -> None:
    tz = ZoneInfo(zone)
    people = tuple(f"u{n}@example.com" for n in range(users))
    layer = Layer("l", start, rotation, (Membership(people),))
    first = start.replace(tzinfo=tz).astimezone(UTC)
    begin = first + timedelta(hours=offset_hours)
    end = begin + timedelta(hours=hours)
    shifts = layer_shifts(layer, tz, begin, end)
    # Contiguous and covering the window exactly: one person at every instant.
    assert shifts[0].start == begin and shifts[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts))
    assert all(s.user in people and s.end > s.start for s in shifts)
    for shift in shifts[1:]:
        if rotation == "hourly":
            assert (shift.start - first) % timedelta(hours=1) == timedelta()
            continue
        wall = shift.start.astimezone(tz).replace(tzinfo=None)
        intended = datetime.combine(wall.date(), start.time())
        if intended.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == (
            intended
        ):
            assert wall == intended  # the wall-clock time exists that day: the hand-off is there
        else:
            assert wall - intended == timedelta(hours=1)  # skipped by the spring change
    # With one layer and no override, the final schedule is that layer.
    combined = final(Schedule("s", zone, (layer,)), begin, end).shifts
    assert [(s.start, s.end, s.user) for s in combined] == _joined(shifts)


def test_an_override_takes_its_window_and_the_higher_layer_wins() -> None:
    weekend = Layer(
        "weekend",
        MARCH,
        "daily",
        (Membership(("dave@example.com",)),),
        (Restriction(frozenset({5, 6}), time(0), time(0)),),
    )
    override = Override("erin@example.com", _paris(2027, 3, 3, 18), _paris(2027, 3, 4, 9))
    schedule = Schedule("primary", "Europe/Paris", (_weekly(), weekend), (override,))
    assert who(schedule, _paris(2027, 3, 3, 12)).user == USERS[0]
    assert who(schedule, _paris(2027, 3, 3, 20)) == Shift(
        _paris(2027, 3, 3, 18), _paris(2027, 3, 4, 9), "erin@example.com", "override"
    )
    assert who(schedule, _paris(2027, 3, 6, 12)).user == "dave@example.com"  # Saturday
    assert who(schedule, _paris(2027, 3, 8, 0, 30)).user == USERS[0]  # Monday night, before 09:00


def test_gaps_are_listed_where_nobody_is_on_call() -> None:
    office = _weekly(restrictions=(Restriction(frozenset(range(5)), time(9), time(17)),))
    schedule = Schedule("primary", "Europe/Paris", (office,))
    result = final(schedule, _paris(2027, 3, 5, 9), _paris(2027, 3, 8, 9))
    assert [(g.start, g.end) for g in result.gaps] == [
        (_paris(2027, 3, 5, 17), _paris(2027, 3, 8, 9))  # Friday 17:00 to Monday 09:00
    ]


def test_a_night_restriction_runs_past_midnight() -> None:
    nights = _weekly(restrictions=(Restriction(frozenset(range(7)), time(22), time(6)),))
    schedule = Schedule("primary", "Europe/Paris", (nights,))
    assert who(schedule, _paris(2027, 3, 2, 23)).user == USERS[0]
    assert who(schedule, _paris(2027, 3, 3, 5, 59)).user == USERS[0]
    assert who(schedule, _paris(2027, 3, 3, 6)).user is None


def test_adding_or_removing_someone_keeps_everyone_elses_turn() -> None:
    """Found in the tools we replace: a rotation that resets when someone joins. Bob is on call
    in the second week; Dave joins at the end of the list, then Carol leaves: Bob stays on,
    and the others follow in their order."""
    layer = _weekly()
    now = _paris(2027, 3, 10, 12)  # Wednesday of Bob's week
    joined = rebased(layer, PARIS, (*USERS, "dave@example.com"), now)
    layer = Layer(layer.name, layer.start, layer.rotation, (*layer.memberships, joined))
    schedule = Schedule("primary", "Europe/Paris", (layer,))
    weeks = [who(schedule, _paris(2027, 3, 1, 12) + timedelta(weeks=n)).user for n in range(6)]
    assert weeks == [USERS[0], USERS[1], USERS[2], "dave@example.com", USERS[0], USERS[1]]
    later = _paris(2027, 3, 17, 12)  # Carol's week: she leaves, Dave is next
    left = rebased(layer, PARIS, (USERS[0], USERS[1], "dave@example.com"), later)
    layer = Layer(layer.name, layer.start, layer.rotation, (*layer.memberships, left))
    schedule = Schedule("primary", "Europe/Paris", (layer,))
    weeks = [who(schedule, _paris(2027, 3, 1, 12) + timedelta(weeks=n)).user for n in range(7)]
    assert weeks == [
        USERS[0],
        USERS[1],
        USERS[2],  # her week under way is hers until the hand-off
        "dave@example.com",
        USERS[0],
        USERS[1],
        "dave@example.com",
    ]


def test_a_disabled_user_is_skipped_and_the_schedule_says_so() -> None:
    schedule = Schedule("primary", "Europe/Paris", (_weekly(),))
    result = final(
        schedule, _paris(2027, 3, 8, 9), _paris(2027, 3, 15, 9), disabled=frozenset({USERS[1]})
    )
    assert [s.user for s in result.shifts] == [USERS[2]]
    assert result.warnings == (
        f"layer 'weekly': {USERS[1]} is disabled; {USERS[2]} takes their shifts",
    )


def test_an_override_of_a_user_disabled_since_is_skipped_and_the_schedule_says_so() -> None:
    override = Override("erin@example.com", _paris(2027, 3, 3, 18), _paris(2027, 3, 4, 9))
    schedule = Schedule("primary", "Europe/Paris", (_weekly(),), (override,))
    result = final(
        schedule,
        _paris(2027, 3, 3, 12),
        _paris(2027, 3, 4, 12),
        disabled=frozenset({"erin@example.com"}),
    )
    assert [s.user for s in result.shifts] == [USERS[0]]  # the layer's turn stands: no hole
    assert result.warnings == ("erin@example.com is disabled: their override is skipped",)


def test_an_rrule_rotation_hands_off_when_the_rule_says() -> None:
    twice = Layer(
        "twice", MARCH, "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0", (Membership(USERS),)
    )
    shifts = final(
        Schedule("s", "Europe/Paris", (twice,)), _paris(2027, 3, 1, 9), _paris(2027, 3, 15, 9)
    )
    assert [(s.start.astimezone(PARIS).strftime("%a %H:%M"), s.user) for s in shifts.shifts] == [
        ("Mon 09:00", USERS[0]),
        ("Thu 09:00", USERS[1]),
        ("Mon 09:00", USERS[2]),
        ("Thu 09:00", USERS[0]),
    ]


@pytest.mark.parametrize(
    ("layer", "zone", "message"),
    [
        (Layer("l", MARCH, "FREQ=SOMETIMES", (Membership(USERS),)), "Europe/Paris", "not an RRULE"),
        (
            Layer("l", MARCH, "FREQ=MINUTELY", (Membership(USERS),)),
            "Europe/Paris",
            "at most hourly",
        ),
        (Layer("l", MARCH, "weekly", (Membership(()),)), "Europe/Paris", "at least one user"),
        (_weekly(), "Mars/Olympus_Mons", "not an IANA time zone"),
    ],
)
def test_a_schedule_that_cannot_be_computed_is_refused_saying_why(
    layer: Layer, zone: str, message: str
) -> None:
    with pytest.raises(ScheduleError, match=message):
        final(Schedule("s", zone, (layer,)), _paris(2027, 3, 2, 0), _paris(2027, 3, 3, 0))
