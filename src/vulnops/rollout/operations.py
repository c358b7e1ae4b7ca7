"""The operations on a started rollout: approve or reject (an expedited one, through the
four-eyes mechanism), pause, resume, abort, roll back. Each locks the rollout, checks that its
status allows the operation, records it, tells the case, and wakes the controller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.auth.roles import Permission
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.rollout import tasks, transitions
from vulnops.rollout.decide import ACTIVE, RolloutStatus, StageStatus, UnitStatus
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.service import active_for, get
from vulnops.settings import Settings


def _require(rollout: Rollout, allowed: Sequence[RolloutStatus], operation: str) -> None:
    if rollout.status not in {s.value for s in allowed}:
        names = ", ".join(s.value for s in allowed)
        raise Conflict(
            f"a {rollout.status} rollout cannot be {operation}; only a rollout that is {names}"
        )


def approval_subject(rollout_id: int) -> str:
    return f"rollout:{rollout_id}"


async def _decide(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    reason: str,
    settings: Settings,
    approve: bool,
) -> Rollout:
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    _require(rollout, [RolloutStatus.AWAITING_APPROVAL], "approved" if approve else "rejected")
    await approvals.decide(
        session,
        subject=approval_subject(rollout.id),
        actor=actor,
        approve=approve,
        comment=reason,
        settings=settings,
        now=now,
    )
    rollout.updated_at = now
    if approve:
        rollout.status, rollout.approved_at = RolloutStatus.RUNNING.value, now
        await transitions.record(session, rollout, "approved", {"comment": reason}, actor=actor)
    else:
        rollout.status, rollout.finished_at = RolloutStatus.ABORTED.value, now
        rollout.status_reason = f"rejected by {actor}: {reason.strip()}"
        await transitions.record(session, rollout, "rejected", {"comment": reason}, actor=actor)
    await transitions.tell_case(session, rollout, now=now, settings=settings, actor=actor)
    await tasks.wake(session, rollout.id)
    return rollout


async def _operate(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    allowed: Sequence[RolloutStatus],
    operation: str,
    to: RolloutStatus,
    reason: str,
    settings: Settings,
) -> Rollout:
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    _require(rollout, allowed, operation)
    previous = rollout.status
    rollout.status, rollout.status_reason, rollout.updated_at = to.value, reason, now
    if to in {RolloutStatus.ABORTED}:
        rollout.finished_at = now
    await transitions.record(
        session, rollout, operation.replace(" ", "_"), {"from": previous, "reason": reason}, actor
    )
    await transitions.tell_case(session, rollout, now=now, settings=settings, actor=actor)
    await tasks.wake(session, rollout.id)
    return rollout


async def pause(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    settings: Settings,
    reason: str = "",
) -> Rollout:
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        settings=settings,
        allowed=[RolloutStatus.RUNNING],
        operation="paused",
        to=RolloutStatus.PAUSED,
        reason=reason or "paused",
    )


async def resume(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    settings: Settings,
    reason: str = "",
) -> Rollout:
    """Resume a paused rollout, or one halted because a unit could not be deployed (its units
    are tried again). A rollout whose gate failed cannot resume: roll it back, or abort it."""
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    _require(rollout, [RolloutStatus.PAUSED, RolloutStatus.HALTED], "resumed")
    failed_stage = await session.scalar(
        select(RolloutStage.index).where(
            RolloutStage.rollout_id == rollout.id, RolloutStage.status == StageStatus.FAILED
        )
    )
    if failed_stage is not None:
        raise Conflict(
            f"stage {failed_stage + 1} failed its health gate: roll the rollout back or abort it"
        )
    units = await session.scalars(
        select(RolloutUnit).where(
            RolloutUnit.rollout_id == rollout.id, RolloutUnit.status == UnitStatus.FAILED
        )
    )
    for unit in units:
        unit.status, unit.attempts, unit.retry_at = UnitStatus.PENDING.value, 0, None
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        settings=settings,
        allowed=[RolloutStatus.PAUSED, RolloutStatus.HALTED],
        operation="resumed",
        to=RolloutStatus.RUNNING,
        reason=reason or "resumed",
    )


async def abort(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    settings: Settings,
    reason: str,
) -> Rollout:
    """Stop for good, leaving every unit as it is."""
    if not reason.strip():
        raise Invalid("reason: say why the rollout is aborted")
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        settings=settings,
        allowed=sorted(ACTIVE),
        operation="aborted",
        to=RolloutStatus.ABORTED,
        reason=reason.strip(),
    )


async def roll_back(
    session: AsyncSession,
    *,
    rollout_id: int,
    actor: str,
    now: datetime,
    settings: Settings,
    reason: str,
) -> Rollout:
    """Return every unit this rollout changed to the version it ran before."""
    if not reason.strip():
        raise Invalid("reason: say why the rollout is rolled back")
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    allowed = [
        RolloutStatus.RUNNING,
        RolloutStatus.PAUSED,
        RolloutStatus.HALTED,
        RolloutStatus.COMPLETED,
        RolloutStatus.ROLLING_BACK,
    ]
    _require(rollout, allowed, "rolled back")
    if rollout.status == RolloutStatus.COMPLETED:
        active = await active_for(session, rollout.service_id)
        if active is not None:
            raise Conflict(f"another rollout of this service is active ({active})")
        rollout.finished_at = None
    units = await session.scalars(
        select(RolloutUnit).where(
            RolloutUnit.rollout_id == rollout.id,
            RolloutUnit.status.in_([UnitStatus.DEPLOYED, UnitStatus.ROLLBACK_FAILED]),
        )
    )
    for unit in units:
        unit.status, unit.attempts, unit.retry_at = UnitStatus.DEPLOYED.value, 0, None
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        settings=settings,
        allowed=allowed,
        operation="rollback requested",
        to=RolloutStatus.ROLLING_BACK,
        reason=reason.strip(),
    )


# The operations, by the name the API, the pages and the command line use.
OPERATIONS: dict[str, Callable[..., Awaitable[Rollout]]] = {
    "pause": pause,
    "resume": resume,
    "abort": abort,
    "rollback": roll_back,
}
# The decisions on an expedited rollout, by its named approver who did not start it (four eyes):
# approved, it runs; rejected, it ends aborted, having deployed nothing. They need a second
# permission: rollouts:approve.
DECISIONS: dict[str, Callable[..., Awaitable[Rollout]]] = {
    "approve": partial(_decide, approve=True),
    "reject": partial(_decide, approve=False),
}


def named(name: str) -> tuple[Callable[..., Awaitable[Rollout]], Permission]:
    """The operation or decision called ``name``, and the permission it needs."""
    if name in DECISIONS:
        return DECISIONS[name], Permission.ROLLOUTS_APPROVE
    if name in OPERATIONS:
        return OPERATIONS[name], Permission.ROLLOUTS_MANAGE
    raise NotFound(f"no operation {name!r}; use {', '.join([*DECISIONS, *OPERATIONS])}")
