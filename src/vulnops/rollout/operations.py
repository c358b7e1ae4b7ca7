"""The operations on a started rollout: approve, pause, resume, abort, roll back. Each locks the
rollout, checks that its status allows the operation, records it, and wakes the controller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import Conflict, Forbidden, Invalid
from vulnops.rollout import tasks, transitions
from vulnops.rollout.decide import ACTIVE, RolloutStatus, StageStatus, UnitStatus
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.service import active_for, get


def _require(rollout: Rollout, allowed: Sequence[RolloutStatus], operation: str) -> None:
    if rollout.status not in {s.value for s in allowed}:
        names = ", ".join(s.value for s in allowed)
        raise Conflict(
            f"a {rollout.status} rollout cannot be {operation}; only a rollout that is {names}"
        )


async def approve(session: AsyncSession, *, rollout_id: int, actor: str, now: datetime) -> Rollout:
    rollout = await get(session, rollout_id=rollout_id, lock=True)
    _require(rollout, [RolloutStatus.AWAITING_APPROVAL], "approved")
    if actor.lower() == rollout.started_by.lower():
        raise Forbidden("the person who started the rollout cannot approve it")
    if rollout.approver is not None and actor.lower() != rollout.approver:
        raise Forbidden(f"only the named approver ({rollout.approver}) can approve it")
    rollout.status, rollout.approved_at, rollout.updated_at = RolloutStatus.RUNNING.value, now, now
    await transitions.record(session, rollout, "approved", {}, actor=actor)
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
    await tasks.wake(session, rollout.id)
    return rollout


async def pause(
    session: AsyncSession, *, rollout_id: int, actor: str, now: datetime, reason: str = ""
) -> Rollout:
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        allowed=[RolloutStatus.RUNNING],
        operation="paused",
        to=RolloutStatus.PAUSED,
        reason=reason or "paused",
    )


async def resume(
    session: AsyncSession, *, rollout_id: int, actor: str, now: datetime, reason: str = ""
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
            f"stage {failed_stage} failed its health gate: roll the rollout back or abort it"
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
        allowed=[RolloutStatus.PAUSED, RolloutStatus.HALTED],
        operation="resumed",
        to=RolloutStatus.RUNNING,
        reason=reason or "resumed",
    )


async def abort(
    session: AsyncSession, *, rollout_id: int, actor: str, now: datetime, reason: str
) -> Rollout:
    """Stop for good, leaving every unit as it is."""
    if not reason.strip():
        raise Invalid("reason: say why the rollout is aborted")
    return await _operate(
        session,
        rollout_id=rollout_id,
        actor=actor,
        now=now,
        allowed=sorted(ACTIVE),
        operation="aborted",
        to=RolloutStatus.ABORTED,
        reason=reason.strip(),
    )


async def roll_back(
    session: AsyncSession, *, rollout_id: int, actor: str, now: datetime, reason: str
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
        allowed=allowed,
        operation="rollback requested",
        to=RolloutStatus.ROLLING_BACK,
        reason=reason.strip(),
    )


# The operations that take a reason, by the name the API, the pages and the command line use.
OPERATIONS: dict[str, Callable[..., Awaitable[Rollout]]] = {
    "pause": pause,
    "resume": resume,
    "abort": abort,
    "rollback": roll_back,
}
