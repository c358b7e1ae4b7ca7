"""Reading schedules: a stored schedule as the pure :class:`~vulnops.oncall.schedule.Schedule`
(users named by email, with the disabled ones), and who is on call — four queries for any
number of schedules."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import Invalid, NotFound
from vulnops.oncall import schedule as pure
from vulnops.oncall.models import OncallLayer, OncallSchedule


@dataclass(frozen=True)
class StoredSchedule:
    """A schedule as the pure functions take it, with its users that are disabled."""

    id: int
    name: str
    schedule: pure.Schedule
    disabled: frozenset[str]

    @property
    def zone(self) -> ZoneInfo:
        return pure.zone(self.schedule.time_zone)


def restriction(stored: dict[str, object]) -> pure.Restriction:
    days = stored["days"]
    assert isinstance(days, list)
    return pure.Restriction(
        weekdays=frozenset(int(day) for day in days),
        start=time.fromisoformat(str(stored["start"])),
        end=time.fromisoformat(str(stored["end"])),
    )


_MEMBERS = """
SELECT m.layer_id, m.id, m.since, m."offset", u.email, u.disabled_at IS NOT NULL AS disabled
FROM oncall_memberships m
JOIN oncall_layers l ON l.id = m.layer_id
JOIN oncall_members om ON om.membership_id = m.id
JOIN users u ON u.id = om.user_id
WHERE l.schedule_id = ANY(CAST(:schedules AS bigint[]))
ORDER BY m.layer_id, m.since NULLS FIRST, m.id, om.position
"""

_OVERRIDES = """
SELECT o.schedule_id, u.email, o.starts_at, o.ends_at, u.disabled_at IS NOT NULL AS disabled
FROM oncall_overrides o JOIN users u ON u.id = o.user_id
WHERE o.schedule_id = ANY(CAST(:schedules AS bigint[]))
  AND o.ends_at > :after AND o.starts_at < :before
ORDER BY o.created_at, o.id
"""
# Overrides matter to a computation near their window; the oldest ones are a record only.
EVERY_OVERRIDE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


# How far from now a schedule is computed on request: a rotation is counted from its start, so
# an instant centuries away would be work without end.
REACH = timedelta(days=731)


def within_reach(*instants: datetime, now: datetime) -> None:
    """Refuse instants further than :data:`REACH` from now (a 422 naming the bound)."""
    for instant in instants:
        if abs(instant - now) > REACH:
            raise Invalid("at: ask about the two years either side of now, not further")


def near(at: datetime) -> tuple[datetime, datetime]:
    """The window whose overrides :func:`~vulnops.oncall.schedule.who` at ``at`` may read."""
    return at - 2 * pure.WHO_HORIZON, at + 2 * pure.WHO_HORIZON


async def load(
    session: AsyncSession, *, key: str, around: tuple[datetime, datetime] | None = None
) -> StoredSchedule:
    found = await load_many(session, keys=[key], around=around)
    if not found:
        raise NotFound(f"no on-call schedule {key!r}")
    return found[0]


async def load_many(
    session: AsyncSession,
    *,
    keys: list[str] | None = None,
    around: tuple[datetime, datetime] | None = None,
) -> list[StoredSchedule]:
    """The schedules of these keys (all of them: None), by key — four queries in all — with the
    overrides that touch ``around`` (a window; None: now, give or take the horizon of
    :func:`~vulnops.oncall.schedule.who`)."""
    around = around or near(datetime.now(UTC))
    query = select(OncallSchedule).order_by(OncallSchedule.key)
    if keys is not None:
        query = query.where(OncallSchedule.key.in_(keys))
    rows = list(await session.scalars(query))
    ids = [row.id for row in rows]
    layers: dict[int, list[OncallLayer]] = defaultdict(list)
    for layer in await session.scalars(
        select(OncallLayer).where(OncallLayer.schedule_id.in_(ids)).order_by(OncallLayer.position)
    ):
        layers[layer.schedule_id].append(layer)
    members: dict[int, dict[int, tuple[datetime | None, int, list[str]]]] = defaultdict(dict)
    disabled: set[str] = set()
    for found in await session.execute(text(_MEMBERS), {"schedules": ids}):
        entry = members[found.layer_id].setdefault(found.id, (found.since, found.offset, []))
        entry[2].append(found.email)
        if found.disabled:
            disabled.add(found.email)
    overrides: dict[int, list[pure.Override]] = defaultdict(list)
    taken = await session.execute(
        text(_OVERRIDES), {"schedules": ids, "after": around[0], "before": around[1]}
    )
    for schedule_id, email, starts, ends, off in taken:
        overrides[schedule_id].append(pure.Override(email, starts, ends))
        if off:
            disabled.add(email)
    return [
        StoredSchedule(
            row.id,
            row.name,
            pure.Schedule(
                key=row.key,
                time_zone=row.time_zone,
                layers=tuple(_layer(layer, members[layer.id]) for layer in layers[row.id]),
                overrides=tuple(overrides[row.id]),
            ),
            frozenset(disabled),
        )
        for row in rows
    ]


def _layer(
    layer: OncallLayer, memberships: dict[int, tuple[datetime | None, int, list[str]]]
) -> pure.Layer:
    return pure.Layer(
        name=layer.name,
        start=layer.start_local,
        rotation=layer.rotation,
        memberships=tuple(
            pure.Membership(users=tuple(users), since=since, offset=offset)
            for since, offset, users in memberships.values()
        ),
        restrictions=tuple(restriction(item) for item in layer.restrictions),
        time_zone=layer.time_zone,
    )


async def who(
    session: AsyncSession, *, key: str, at: datetime
) -> tuple[pure.Shift, StoredSchedule]:
    """Who is on call on a schedule at an instant (the shift, its user None in a gap)."""
    if at.tzinfo is None:
        raise Invalid("at: give the instant with its offset (e.g. 2027-03-10T18:00+01:00)")
    within_reach(at, now=datetime.now(UTC))
    stored = await load(session, key=key, around=near(at))
    try:
        shift = pure.who(stored.schedule, at, disabled=stored.disabled)
    except pure.ScheduleError as error:
        raise Invalid(f"schedule {key!r}: {error}") from None
    return shift, stored


def members(stored: StoredSchedule) -> list[str]:
    """Everyone in a layer's latest rotation, in order, each once."""
    found: dict[str, None] = {}
    for layer in stored.schedule.layers:
        if layer.memberships:
            found.update(dict.fromkeys(layer.memberships[-1].users))
    return list(found)


def warnings(stored: StoredSchedule, *, at: datetime) -> list[str]:
    """What the schedule says is wrong around an instant (a disabled user skipped)."""
    window = pure.final(stored.schedule, at, at + timedelta(seconds=1), disabled=stored.disabled)
    return list(window.warnings)


@dataclass(frozen=True)
class OnCallNow:
    """A schedule's shift now and the next one (its user None in a gap), with its warnings."""

    key: str
    name: str
    zone: ZoneInfo
    now: pure.Shift
    next: pure.Shift | None
    warnings: list[str]


async def on_call_now(session: AsyncSession, *, at: datetime) -> list[OnCallNow]:
    """Every schedule's current and next shift (the home page and the on-call page)."""
    found = []
    for stored in await load_many(session):
        shifts = pure.final(stored.schedule, at, at + pure.WHO_HORIZON, disabled=stored.disabled)
        current = pure.who(stored.schedule, at, disabled=stored.disabled)
        following = next((s for s in shifts.shifts if s.start >= current.end), None)
        found.append(
            OnCallNow(
                key=stored.schedule.key,
                name=stored.name or stored.schedule.key,
                zone=stored.zone,
                now=current,
                next=following,
                warnings=list(shifts.warnings),
            )
        )
    return found
