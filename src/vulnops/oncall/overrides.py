"""Overrides people make from the calendar: take a shift, have a colleague cover for me, remove
one. Each is checked against the final schedule (you cover only what is yours), bounded in
length, and an event on the on-call log; the import's all-or-nothing rules stay the import's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.auth.roles import Permission, Role, has_permission
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound
from vulnops.oncall import schedule as pure
from vulnops.oncall import service
from vulnops.oncall.models import OncallOverride, OncallSchedule

# The longest window one override takes (a holiday's cover; longer is a change of rotation).
MAX_OVERRIDE = timedelta(days=31)


async def _user(session: AsyncSession, email: str) -> User:
    """Someone who may be on call: an enabled account whose role answers pages (never a
    customer's, a researcher's or a partner's)."""
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        raise Invalid(f"user: no user {email!r}")
    if user.disabled_at is not None:
        raise Invalid(f"user: {email} is disabled")
    if not has_permission(Role(user.role), Permission.ONCALL_RESPOND):
        raise Invalid(f"user: {email} cannot answer pages (role {user.role})")
    return user


def _window(start: datetime, end: datetime, *, now: datetime) -> tuple[datetime, datetime]:
    """The window as taken: it must have offsets, end after it starts and after now, and be at
    most :data:`MAX_OVERRIDE` long; what has passed already is left as it was."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start, end: give instants with their offsets (e.g. 2027-03-10T18:00+01:00)")
    if end <= start:
        raise Invalid("end: an override must end after it starts")
    if end <= now:
        raise Invalid("end: that window has passed")
    if end - start > MAX_OVERRIDE:
        raise Invalid(f"end: an override covers at most {MAX_OVERRIDE.days} days")
    return max(start, now), end


async def add(
    session: AsyncSession,
    *,
    key: str,
    user: str,
    start: datetime,
    end: datetime,
    actor: str,
    now: datetime,
    why: str = "override",
) -> OncallOverride:
    """``user`` takes [start, end) of schedule ``key`` from whoever has it."""
    row = await session.scalar(select(OncallSchedule).where(OncallSchedule.key == key))
    if row is None:
        raise NotFound(f"no on-call schedule {key!r}")
    opens, closes = _window(start, end, now=now)
    taker = await _user(session, user)
    created = OncallOverride(
        schedule_id=row.id, user_id=taker.id, starts_at=opens, ends_at=closes, created_by=actor
    )
    session.add(created)
    await session.flush()
    await audit.record(
        session,
        subject="oncall",
        kind=f"oncall.{why}",
        actor=actor,
        data={
            "schedule": key,
            "override": created.id,
            "user": user,
            "start": opens.isoformat(),
            "end": closes.isoformat(),
        },
    )
    return created


async def _shift(
    session: AsyncSession, key: str, at: datetime
) -> tuple[service.StoredSchedule, pure.Shift]:
    """The schedule and its whole final shift covering ``at`` (not the part a page shows)."""
    if at.tzinfo is None:
        raise Invalid("at: give the instant with its offset")
    stored = await service.load(session, key=key, around=service.near(at))
    return stored, pure.who(stored.schedule, at, disabled=stored.disabled)


async def take(
    session: AsyncSession, *, key: str, user: str, at: datetime, actor: str, now: datetime
) -> OncallOverride:
    """``user`` takes the whole shift covering ``at`` (from now, when it is under way)."""
    _, shift = await _shift(session, key, at)
    if shift.user == user:
        raise Conflict("that shift is yours already")
    return await add(
        session,
        key=key,
        user=user,
        start=shift.start,
        end=shift.end,
        actor=actor,
        now=now,
        why="taken",
    )


async def cover(
    session: AsyncSession,
    *,
    key: str,
    on_call: str,
    by: str,
    at: datetime,
    actor: str,
    now: datetime,
) -> OncallOverride:
    """``by``, a member of the schedule's rotations, covers the shift of ``on_call`` that
    covers ``at``."""
    if by == on_call:
        raise Invalid("user: choose someone else to cover for you")
    stored, shift = await _shift(session, key, at)
    if by not in service.members(stored):
        raise Invalid(f"user: {by} is not in the rotations of {key!r}")
    if shift.user != on_call:
        raise Conflict(f"{on_call} is not on call on {key!r} then")
    return await add(
        session,
        key=key,
        user=by,
        start=shift.start,
        end=shift.end,
        actor=actor,
        now=now,
        why="covered",
    )


async def remove(
    session: AsyncSession,
    *,
    key: str,
    override_id: int,
    actor: str,
    may_manage: bool,
    now: datetime,
) -> None:
    """Remove an override — its taker, its maker or an on-call manager may. One under way ends
    now, and one that has passed stays (who was on call is a record; a manager may still)."""
    found = (
        await session.execute(
            select(OncallOverride, User.email)
            .join(OncallSchedule, OncallSchedule.id == OncallOverride.schedule_id)
            .join(User, User.id == OncallOverride.user_id)
            .where(OncallSchedule.key == key, OncallOverride.id == override_id)
        )
    ).first()
    if found is None:
        raise NotFound(f"no override {override_id} on {key!r}")
    override, taker = found
    if not may_manage and actor not in (taker, override.created_by):
        raise Forbidden("only its taker, its maker or an on-call manager removes an override")
    if override.ends_at <= now and not may_manage:
        raise Conflict("that override has passed: who was on call stays on record")
    ended = override.starts_at < now < override.ends_at
    if ended:
        override.ends_at = now
    else:
        await session.delete(override)
    await audit.record(
        session,
        subject="oncall",
        kind="oncall.override_ended" if ended else "oncall.override_removed",
        actor=actor,
        data={"schedule": key, "override": override_id, "user": taker},
    )


@dataclass(frozen=True)
class Listed:
    id: int
    user: str
    start: datetime
    end: datetime
    created_by: str


async def listed(
    session: AsyncSession, *, key: str, after: datetime, before: datetime
) -> list[Listed]:
    """The schedule's overrides that touch [after, before), earliest first."""
    rows = await session.execute(
        select(OncallOverride, User.email)
        .join(OncallSchedule, OncallSchedule.id == OncallOverride.schedule_id)
        .join(User, User.id == OncallOverride.user_id)
        .where(
            OncallSchedule.key == key,
            OncallOverride.ends_at > after,
            OncallOverride.starts_at < before,
        )
        .order_by(OncallOverride.starts_at, OncallOverride.id)
    )
    return [
        Listed(row.id, email, row.starts_at, row.ends_at, row.created_by) for row, email in rows
    ]
