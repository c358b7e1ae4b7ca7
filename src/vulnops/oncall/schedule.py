"""On-call schedules (pure): who is on call, from a schedule and a time window alone.

A schedule has an IANA time zone and layers. A layer rotates an ordered list of users: it hands
off at its ``start`` (a wall-clock time in the schedule's zone) and then at each occurrence of
its rotation — ``hourly`` (every 60 minutes of elapsed time), ``daily`` and ``weekly`` (at the
same wall-clock time, so a hand-off stays at 09:00 across both DST changes and the shift that
spans a change is an hour shorter or longer), or any RFC 5545 RRULE (read by dateutil, its
occurrences in wall-clock time). Restrictions keep a layer to some weekdays and hours.

Who takes shift *k* comes from the layer's membership in force when that shift starts: user
``(k + offset) mod len(users)``. Changing the members adds a membership from that moment with an
offset chosen so the person on call stays on and the others keep their order (:func:`rebased`):
nobody's turn is reset. A disabled user's shifts go to the next enabled user of the list, and the
schedule says so.

The final schedule at an instant is the latest override covering it, else the highest layer
(layers are listed lowest first) with someone on call, else nobody: a gap.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

NAMED_STEPS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
HOUR = timedelta(hours=1)
OVERRIDE = "override"
SLOW_ENOUGH = {"HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class ScheduleError(ValueError):
    """A schedule that cannot be computed: the message says which part and why."""


@dataclass(frozen=True)
class Restriction:
    """On call only on these weekdays (0 is Monday) between these wall-clock times; an end at
    or before the start runs past midnight."""

    weekdays: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Membership:
    """The users a layer rotates from ``since`` (an instant; None: from the layer's start)."""

    users: tuple[str, ...]
    since: datetime | None = None
    offset: int = 0


@dataclass(frozen=True)
class Layer:
    """A rotation. Its times are wall-clock times in its own zone when it has one (a region of
    a follow-the-sun schedule), else in the schedule's."""

    name: str
    start: datetime  # naive: wall-clock time in the layer's zone
    rotation: str
    memberships: tuple[Membership, ...]
    restrictions: tuple[Restriction, ...] = ()
    time_zone: str | None = None


@dataclass(frozen=True)
class Override:
    """``user`` takes the window from whoever has it (``start`` and ``end`` are instants)."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    key: str
    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    """``user`` on call from ``start`` to ``end`` (UTC) through ``source`` — a layer's name or
    ``override``; a gap has neither."""

    start: datetime
    end: datetime
    user: str | None
    source: str | None


@dataclass(frozen=True)
class Final:
    """The schedule over a window: contiguous shifts covering it (gaps included), each layer's
    own shifts, and warnings (disabled users skipped)."""

    shifts: tuple[Shift, ...]
    layers: dict[str, tuple[Shift, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def gaps(self) -> tuple[Shift, ...]:
        return tuple(shift for shift in self.shifts if shift.user is None)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"time_zone: {name!r} is not an IANA time zone") from None


def layer_zone(schedule: Schedule, layer: Layer) -> ZoneInfo:
    return zone(layer.time_zone or schedule.time_zone)


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time as an instant: a time the spring change skips is read with the offset
    before the change (02:30 becomes 03:30); a repeated one is its first occurrence."""
    return local.replace(tzinfo=tz).astimezone(UTC)


def rule(layer: Layer) -> rrule | None:
    """The layer's RRULE (None for a named rotation), refused when it does not parse or turns
    faster than hourly."""
    if layer.rotation in ("hourly", *NAMED_STEPS):
        return None
    try:
        parsed = rrulestr(layer.rotation, dtstart=layer.start)
    except (ValueError, TypeError) as error:
        raise ScheduleError(f"layer {layer.name!r}: rotation is not an RRULE ({error})") from None
    if not isinstance(parsed, rrule):
        raise ScheduleError(f"layer {layer.name!r}: rotation must be one RRULE")
    frequency = re.search(r"FREQ=([A-Z]+)", layer.rotation.upper())
    if frequency is None or frequency.group(1) not in SLOW_ENOUGH:
        raise ScheduleError(f"layer {layer.name!r}: a rotation hands off at most hourly")
    return parsed


def _handoffs(
    layer: Layer, tz: ZoneInfo, since: datetime, until: datetime
) -> Iterator[tuple[int, datetime]]:
    """Each hand-off (its shift number and instant) up to ``until``. A named rotation's are
    computed from the last one at or before ``since`` (a year of hourly shifts costs nothing);
    an RRULE's are counted from the layer's start (the number of a shift depends on all before
    it), skipping a wall-clock time the spring change made the same instant as the one before."""
    parsed = rule(layer)
    if parsed is None and layer.rotation == "hourly":
        first = _instant(layer.start, tz)
        number = max(0, math.floor((since - first) / HOUR))
        while (at := first + number * HOUR) <= until:
            yield number, at
            number += 1
        return
    if parsed is None:
        step = NAMED_STEPS[layer.rotation]
        local_since = since.astimezone(tz).replace(tzinfo=None)
        number = max(0, math.floor((local_since - layer.start) / step) - 1)
        while (at := _instant(layer.start + number * step, tz)) <= until:
            yield number, at
            number += 1
        return
    previous: datetime | None = None
    number = 0
    for occurrence in parsed:
        at = _instant(occurrence, tz)
        if previous is not None and at <= previous:
            continue
        if at > until:
            return
        yield number, at
        previous, number = at, number + 1


def _shifts(
    layer: Layer, tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[int, datetime, datetime]]:
    """The layer's shifts (number, start, end) that overlap [start, end), unrestricted."""
    horizon = end + timedelta(days=8)  # past the hand-off that ends the last shift
    handoffs = _handoffs(layer, tz, start, horizon)
    found: list[tuple[int, datetime, datetime]] = []
    current: tuple[int, datetime] | None = None
    for number, at in handoffs:
        if current is not None and at > start:
            found.append((current[0], current[1], at))
        if at >= end:
            current = None
            break
        current = (number, at)
    if current is not None:  # the rule ended: its last shift lasts
        found.append((current[0], current[1], datetime.max.replace(tzinfo=UTC)))
    return found


def _membership(layer: Layer, at: datetime) -> Membership:
    chosen = layer.memberships[0]
    for membership in layer.memberships[1:]:
        if membership.since is not None and membership.since <= at:
            chosen = membership
    return chosen


def current_members(layer: Layer, at: datetime) -> tuple[str, ...]:
    """Everyone in the layer's rotation at an instant (a target "everyone on this layer")."""
    return _membership(layer, at).users if layer.memberships else ()


def _taker(
    layer: Layer, number: int, at: datetime, disabled: frozenset[str], warnings: dict[str, None]
) -> str | None:
    membership = _membership(layer, at)
    users, offset = membership.users, membership.offset
    if not users:
        raise ScheduleError(f"layer {layer.name!r}: a rotation needs at least one user")
    position = (number + offset) % len(users)
    for step in range(len(users)):
        candidate = users[(position + step) % len(users)]
        if candidate not in disabled:
            if step:
                warnings[
                    f"layer {layer.name!r}: {users[position]} is disabled; "
                    f"{candidate} takes their shifts"
                ] = None
            return candidate
    warnings[f"layer {layer.name!r}: every user is disabled: nobody is on call"] = None
    return None


def _allowed(
    restrictions: Sequence[Restriction], tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The instants of [start, end) that the restrictions allow, as sorted disjoint intervals."""
    if not restrictions:
        return [(start, end)]
    first: date = start.astimezone(tz).date() - timedelta(days=1)
    last: date = end.astimezone(tz).date() + timedelta(days=1)
    windows: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for allowed in restrictions:
            if day.weekday() not in allowed.weekdays:
                continue
            opens = _instant(datetime.combine(day, allowed.start), tz)
            closes_on = day + timedelta(days=1) if allowed.end <= allowed.start else day
            closes = _instant(datetime.combine(closes_on, allowed.end), tz)
            if closes > start and opens < end:
                windows.append((max(opens, start), min(closes, end)))
        day += timedelta(days=1)
    windows.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in windows:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def layer_shifts(
    layer: Layer,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    disabled: frozenset[str] = frozenset(),
    warnings: dict[str, None] | None = None,
) -> tuple[Shift, ...]:
    """One layer's shifts within [start, end), restrictions applied (nobody outside them)."""
    noted: dict[str, None] = {} if warnings is None else warnings
    if not layer.memberships:
        raise ScheduleError(f"layer {layer.name!r}: a rotation needs at least one user")
    shifts: list[Shift] = []
    for number, opens, closes in _shifts(layer, tz, start, end):
        user = _taker(layer, number, opens, disabled, noted)
        for allowed_start, allowed_end in _allowed(
            layer.restrictions, tz, max(opens, start), min(closes, end)
        ):
            shifts.append(Shift(allowed_start, allowed_end, user, layer.name))
    return tuple(shifts)


def final(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    *,
    disabled: frozenset[str] = frozenset(),
) -> Final:
    """The schedule over [start, end): every instant covered exactly once, by an override, the
    highest layer with someone on call, or a gap."""
    if end <= start:
        raise ScheduleError("the window must end after it starts")
    warnings: dict[str, None] = {}
    layers = {
        layer.name: layer_shifts(
            layer, layer_zone(schedule, layer), start, end, disabled=disabled, warnings=warnings
        )
        for layer in schedule.layers
    }
    touching = [o for o in schedule.overrides if o.end > start and o.start < end]
    for item in touching:
        if item.user in disabled:  # the layers' own turn stands, and the schedule says so
            warnings[f"{item.user} is disabled: their override is skipped"] = None
    overrides = tuple(
        Shift(max(item.start, start), min(item.end, end), item.user, OVERRIDE)
        for item in touching
        if item.user not in disabled
    )
    # Highest priority last: layers in order, then overrides in the order they were made.
    sources = [*layers.values(), overrides]
    cuts = sorted(
        {start, end, *(t for shifts in sources for s in shifts for t in (s.start, s.end))}
    )
    pointers = [0] * len(sources)
    merged: list[Shift] = []
    for opens, closes in itertools.pairwise(cuts):
        chosen: Shift | None = None
        for index, shifts in enumerate(sources):
            while pointers[index] < len(shifts) and shifts[pointers[index]].end <= opens:
                pointers[index] += 1
            covering = _covering(shifts, pointers[index], opens)
            if covering is not None and covering.user is not None:
                chosen = covering
        user, source = (chosen.user, chosen.source) if chosen else (None, None)
        if merged and merged[-1].user == user and merged[-1].source == source:
            merged[-1] = Shift(merged[-1].start, closes, user, source)
        else:
            merged.append(Shift(opens, closes, user, source))
    return Final(tuple(merged), layers, tuple(warnings))


def _covering(shifts: Sequence[Shift], first: int, at: datetime) -> Shift | None:
    """The last shift from ``first`` on that covers ``at`` (overrides may overlap: the later
    one wins)."""
    found = None
    for shift in shifts[first:]:
        if shift.start > at:
            break
        if shift.end > at:
            found = shift
    return found


WHO_HORIZON = timedelta(days=32)


def who(schedule: Schedule, at: datetime, *, disabled: frozenset[str] = frozenset()) -> Shift:
    """The final schedule's shift covering one instant (its user None in a gap), with when it
    began and ends — looked for at most :data:`WHO_HORIZON` either side."""
    shifts = final(schedule, at - WHO_HORIZON, at + WHO_HORIZON, disabled=disabled).shifts
    return next(shift for shift in shifts if shift.start <= at < shift.end)


def rebased(layer: Layer, tz: ZoneInfo, users: tuple[str, ...], at: datetime) -> Membership:
    """The membership that puts ``users`` in the rotation from ``at`` without resetting it:
    whoever is on call stays on until the hand-off, and the next shift goes to the one who
    would have come next (the first of the old order still in the list)."""
    if not users:
        raise ScheduleError(f"layer {layer.name!r}: a rotation needs at least one user")
    current = _shifts(layer, tz, at, at + timedelta(seconds=1))
    if not current:
        return Membership(users=users, since=at)
    number, opens, _ = current[0]
    old = _membership(layer, opens)
    on_call = old.users[(number + old.offset) % len(old.users)]
    if on_call in users:
        return Membership(
            users=users, since=at, offset=(users.index(on_call) - number) % len(users)
        )
    position = old.users.index(on_call)
    following = [old.users[(position + step) % len(old.users)] for step in range(1, len(old.users))]
    successor = next((user for user in following if user in users), users[0])
    # The shift under way keeps its user unless it starts right now.
    upcoming = number if opens == at else number + 1
    return Membership(
        users=users, since=at, offset=(users.index(successor) - upcoming) % len(users)
    )
