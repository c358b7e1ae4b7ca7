"""What the controller's actions change in the rollout's rows, each recorded as an event on the
case's timeline (and the inventory told which version a unit runs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import events
from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.durations import format_duration
from vulnops.fleet import deployment
from vulnops.mail import service as mail
from vulnops.rollout import case_facts
from vulnops.rollout import decide as d
from vulnops.rollout.events import Attention, RolloutNeedsAttention
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.policy import Policy
from vulnops.rollout.state import Loaded
from vulnops.settings import Settings

ACTOR = "vulnops-rollout"


async def record(
    session: AsyncSession, rollout: Rollout, kind: str, data: dict[str, Any], actor: str = ACTOR
) -> None:
    await audit.record(
        session,
        subject=cases.subject(rollout.case_id),
        kind=f"rollout.{kind}",
        actor=actor,
        data={"rollout": rollout.id, **data},
    )


async def tell_case(
    session: AsyncSession,
    rollout: Rollout,
    *,
    now: datetime,
    settings: Settings,
    actor: str = ACTOR,
) -> None:
    """The rollout's status changed: the case's deployment milestones follow."""
    await case_facts.sync_case(
        session,
        case_id=rollout.case_id,
        rollout_id=rollout.id,
        now=now,
        actor=actor,
        settings=settings,
    )


async def alert(
    session: AsyncSession,
    rollout: Rollout,
    reason: str,
    *,
    settings: Settings,
    stage: int | None = None,
    kind: Attention = "halted",
) -> None:
    """Tell the one who started the rollout and the triage address, and the domains that follow
    a rollout needing a person (the on-call pages)."""
    await events.publish(
        session,
        RolloutNeedsAttention(rollout.id, rollout.case_id, rollout.service_id, stage, reason, kind),
        settings=settings,
    )
    recipients = {rollout.started_by} if "@" in rollout.started_by else set()
    if settings.triage_email:
        recipients.add(settings.triage_email)
    for address in sorted(recipients):
        await mail.queue(
            session,
            settings=settings,
            to=address,
            template="rollout_alert",
            context={"rollout": rollout, "reason": reason, "public_url": settings.public_url},
            kind="rollout_alert",
            about=f"rollout:{rollout.id}",
        )


async def mark(
    session: AsyncSession, rows: Loaded, unit_ids: Sequence[int], status: d.UnitStatus
) -> list[RolloutUnit]:
    """Mark the units about to change (written before the backend is called)."""
    wanted = set(unit_ids)
    eligible = (
        {d.UnitStatus.PENDING}
        if status == d.UnitStatus.DEPLOYING
        else {d.UnitStatus.DEPLOYED, d.UnitStatus.FAILED}
    )
    marked = [u for u in rows.units if u.unit_id in wanted and u.status in eligible]
    for unit in marked:
        unit.status = status.value
        unit.attempts += 1
    await session.flush()
    return marked


def _retry(unit: RolloutUnit, policy: Policy, now: datetime) -> datetime:
    backoff: timedelta = policy.retry_backoff * 2 ** max(unit.attempts - 1, 0)
    return now + backoff


async def record_units(
    session: AsyncSession,
    rows: Loaded,
    action: d.Deploy | d.RollBack | d.Reconcile,
    results: Sequence[tuple[int, str | None, str | None]],
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """The backend's answers: deployed, rolled back, retried later, or failed."""
    rollout, policy = rows.rollout, rows.policy
    by_id = {u.unit_id: u for u in rows.units}
    done: dict[str, list[int]] = defaultdict(list)  # version -> units now running it
    failed: dict[int, str] = {}
    for unit_id, error, version in results:
        unit = by_id[unit_id]
        if isinstance(action, d.Reconcile):
            _reconcile(unit, rollout, version, error, policy, now, done)
        elif error is None:
            if isinstance(action, d.Deploy):
                unit.status, unit.deployed_at = d.UnitStatus.DEPLOYED.value, now
                done[rollout.target_version].append(unit_id)
            else:
                unit.status, unit.rolled_back_at = d.UnitStatus.ROLLED_BACK.value, now
                done[unit.from_version].append(unit_id)
            unit.retry_at, unit.last_error = None, ""
        else:
            failed[unit_id] = error
            unit.last_error = error[:2000]
            exhausted = unit.attempts >= policy.deploy_attempts
            if isinstance(action, d.Deploy):
                unit.status = (d.UnitStatus.FAILED if exhausted else d.UnitStatus.PENDING).value
            else:
                unit.status = (
                    d.UnitStatus.ROLLBACK_FAILED if exhausted else d.UnitStatus.DEPLOYED
                ).value
            unit.retry_at = None if exhausted else _retry(unit, policy, now)
    for version, ids in done.items():
        await deployment.set_version(session, unit_ids=ids, version=version)
    kind = {d.Deploy: "deployed", d.RollBack: "rolled_back_units", d.Reconcile: "reconciled"}[
        type(action)
    ]
    await record(
        session,
        rollout,
        kind,
        {
            "units": sorted(unit_id for unit_id, error, _ in results if error is None),
            "failed": {str(k): v[:300] for k, v in sorted(failed.items())},
            "stages": sorted({by_id[unit_id].stage for unit_id, _, _ in results}),
        },
    )
    if any(by_id[u].status == d.UnitStatus.ROLLBACK_FAILED for u in failed):
        await alert(
            session,
            rollout,
            "a unit could not be rolled back",
            settings=settings,
            kind="rollback_failed",
        )
    rollout.updated_at = now


def _reconcile(
    unit: RolloutUnit,
    rollout: Rollout,
    version: str | None,
    error: str | None,
    policy: Policy,
    now: datetime,
    done: dict[str, list[int]],
) -> None:
    """A unit a dead controller left mid-change: settle it by what the backend says it runs."""
    if unit.status == d.UnitStatus.DEPLOYING:
        if error is None and version == rollout.target_version:
            unit.status, unit.deployed_at = d.UnitStatus.DEPLOYED.value, now
            done[rollout.target_version].append(unit.unit_id)
        else:
            exhausted = unit.attempts >= policy.deploy_attempts
            unit.status = (d.UnitStatus.FAILED if exhausted else d.UnitStatus.PENDING).value
            unit.retry_at = None
    elif error is None and version == unit.from_version:
        unit.status, unit.rolled_back_at = d.UnitStatus.ROLLED_BACK.value, now
        done[unit.from_version].append(unit.unit_id)
    else:
        unit.status, unit.retry_at = d.UnitStatus.DEPLOYED.value, None


async def apply(
    session: AsyncSession, rows: Loaded, action: d.Action, *, now: datetime, settings: Settings
) -> None:
    """Every other action: a stage begins, bakes, passes or fails; the rollout halts, alerts,
    completes or finishes rolling back."""
    rollout = rows.rollout
    rollout.updated_at = now
    if isinstance(action, d.BeginStage):
        stage = rows.stages[action.stage]
        stage.status, stage.begun_at = d.StageStatus.DEPLOYING.value, now
        stage.verdict, stage.verdict_reason, stage.holding_since = None, "", None
        members = [u.unit_id for u in rows.units if u.stage == stage.index]
        await record(
            session,
            rollout,
            "stage_begun",
            {"stage": stage.index, "kind": stage.kind, "regions": stage.regions, "units": members},
        )
    elif isinstance(action, d.StartBaking):
        stage = rows.stages[action.stage]
        stage.status, stage.baking_since = d.StageStatus.BAKING.value, now
        await record(session, rollout, "stage_deployed", {"stage": stage.index})
    elif isinstance(action, d.PassStage):
        stage = rows.stages[action.stage]
        stage.status, stage.finished_at = d.StageStatus.PASSED.value, now
        await record(
            session,
            rollout,
            "stage_passed",
            {**_where(stage), "reason": action.reason, "evidence": _brief(stage)},
        )
    elif isinstance(action, d.FailStage):
        await _fail_stage(session, rows, action, now=now, settings=settings)
    elif isinstance(action, d.Halt):
        rollout.status, rollout.status_reason = d.RolloutStatus.HALTED.value, action.reason
        await record(session, rollout, "halted", {"reason": action.reason})
        await alert(session, rollout, action.reason, settings=settings)
        await tell_case(session, rollout, now=now, settings=settings)
    elif isinstance(action, d.Alert):
        rows.stages[action.stage].alerted = True
        await record(session, rollout, "alert", {"stage": action.stage, "reason": action.reason})
        await alert(
            session, rollout, action.reason, settings=settings, stage=action.stage, kind="holding"
        )
    elif isinstance(action, d.HoldExpired):
        await _hold_expired(session, rows, action, now=now, settings=settings)
    elif isinstance(action, d.Complete):
        rollout.status, rollout.finished_at = d.RolloutStatus.COMPLETED.value, now
        rollout.status_reason = "every unit runs the fix"
        await record(session, rollout, "completed", {"units": len(rows.units)})
        await tell_case(session, rollout, now=now, settings=settings)
    elif isinstance(action, d.FinishRollback):
        rollout.status, rollout.finished_at = d.RolloutStatus.ROLLED_BACK.value, now
        await record(session, rollout, "rolled_back", {})
        await tell_case(session, rollout, now=now, settings=settings)


async def _fail_stage(
    session: AsyncSession, rows: Loaded, action: d.FailStage, *, now: datetime, settings: Settings
) -> None:
    rollout, stage = rows.rollout, rows.stages[action.stage]
    stage.status, stage.finished_at = d.StageStatus.FAILED.value, now
    for unit in rows.units:
        if unit.stage == stage.index:
            unit.attempts, unit.retry_at = 0, None  # counting rollback attempts from here
    rollout.status = d.RolloutStatus.HALTED.value
    rollout.status_reason = (
        f"stage {stage.index + 1} ({stage.kind}) failed its gate: {action.reason}"
    )
    await record(
        session,
        rollout,
        "stage_failed",
        {**_where(stage), "reason": action.reason, "evidence": _brief(stage)},
    )
    await alert(
        session,
        rollout,
        rollout.status_reason,
        settings=settings,
        stage=stage.index,
        kind="failed",
    )
    await tell_case(session, rollout, now=now, settings=settings)


async def _hold_expired(
    session: AsyncSession, rows: Loaded, action: d.HoldExpired, *, now: datetime, settings: Settings
) -> None:
    """Past ``max_hold``: the on-call is paged again, or the rollout halts — by the policy."""
    rollout, stage = rows.rollout, rows.stages[action.stage]
    stage.max_hold_reached = True
    rules = rows.policy.gates
    then = rules.on_max_hold
    await record(
        session,
        rollout,
        "hold_expired",
        {
            **_where(stage),
            "reason": action.reason,
            "max_hold": format_duration(rules.max_hold),
            "then": then,
        },
    )
    reason = (
        f"stage {stage.index + 1} ({stage.kind}) held past its max_hold of "
        f"{format_duration(rules.max_hold)}: "
        f"{action.reason}"
    )
    if then == "halt":
        rollout.status, rollout.status_reason = d.RolloutStatus.HALTED.value, reason
        await record(session, rollout, "halted", {"reason": reason})
    await alert(session, rollout, reason, settings=settings, stage=stage.index, kind="hold_expired")
    if then == "halt":
        await tell_case(session, rollout, now=now, settings=settings)


def _where(stage: RolloutStage) -> dict[str, Any]:
    """Which stage, where, and since when (the timeline says how long it took)."""
    return {
        "stage": stage.index,
        "kind": stage.kind,
        "regions": stage.regions,
        "began": stage.begun_at.isoformat() if stage.begun_at else None,
    }


def _brief(stage: RolloutStage) -> dict[str, Any]:
    evidence = stage.evidence or {}
    keys = ("error_ratio", "error_ratio_95", "latency_change", "requests_updated", "intervals")
    return {key: evidence.get(key) for key in keys}
