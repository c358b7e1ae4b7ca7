"""Rollouts: plan one, start it, list them and show one. The operations on a started one are in
operations.py; the controller (controller.py) does the deploying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.auth import service as users
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, Role, has_permission
from vulnops.cases import access
from vulnops.db.pagination import Page
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound
from vulnops.fleet import deployment
from vulnops.fleet import service as fleet
from vulnops.remediation import service as remediation
from vulnops.remediation.models import Fix
from vulnops.rollout import registry, tasks, transitions
from vulnops.rollout.decide import ACTIVE, RolloutStatus, StageStatus, UnitStatus
from vulnops.rollout.interfaces import Context
from vulnops.rollout.models import Rollout, RolloutStage, RolloutUnit
from vulnops.rollout.plan import Plan, RegionInfo, UnitInfo, build_plan
from vulnops.rollout.policy import Policy, load_policies
from vulnops.settings import Settings


@lru_cache(maxsize=4)
def _policies(path: Path | None) -> dict[str, Policy]:
    return load_policies(path)


def policies(settings: Settings) -> dict[str, Policy]:
    return _policies(settings.rollout_policy_file)


def policy_named(settings: Settings, name: str) -> Policy:
    known = policies(settings)
    if name not in known:
        raise Invalid(f"policy: unknown {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


@dataclass(frozen=True)
class PlanPreview:
    fix: Fix
    service: str
    policy: Policy
    plan: Plan
    units: dict[int, deployment.Placement]


async def preview(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    fix_id: int,
    policy_name: str,
    settings: Settings,
) -> PlanPreview:
    """The plan a rollout of this fix would follow now; nothing is written. A fix of a case
    hidden from ``viewer`` (need to know) is not there for them."""
    fix = await remediation.get_fix(session, fix_id=fix_id)
    if not await access.may_see(session, viewer=viewer, case_id=fix.case_id):
        raise NotFound(f"no fix {fix_id}")
    policy = policy_named(settings, policy_name)
    placements = await deployment.service_units(session, service_id=fix.service_id)
    regions = {
        p.region: RegionInfo(
            key=p.region, pair=p.region_pair, canary=p.region_canary, weight=p.region_weight
        )
        for p in placements
    }
    plan = build_plan(
        units=[
            UnitInfo(
                id=p.id,
                region=p.region,
                scale_unit=p.scale_unit,
                version=p.version,
                traffic_share=p.traffic_share,
                tags=p.tags,
            )
            for p in placements
        ],
        regions=regions.values(),
        policy=policy,
        target_version=fix.version,
    )
    keys = await fleet.service_keys(session, ids=[fix.service_id])
    return PlanPreview(fix, keys[fix.service_id], policy, plan, {p.id: p for p in placements})


async def active_for(session: AsyncSession, service_id: int) -> int | None:
    return await session.scalar(
        select(Rollout.id).where(
            Rollout.service_id == service_id, Rollout.status.in_([s.value for s in ACTIVE])
        )
    )


async def start(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    fix_id: int,
    policy_name: str,
    actor: str,
    settings: Settings,
    now: datetime,
    approver: str | None = None,
    backend: str | None = None,
    health_source: str | None = None,
) -> Rollout:
    """Start rolling a fix out (or wait for the named approver, when the policy asks for one)."""
    shown = await preview(
        session, viewer=viewer, fix_id=fix_id, policy_name=policy_name, settings=settings
    )
    fix, policy = shown.fix, shown.policy
    ready = await remediation.readiness(session, fix=fix)
    if not ready.ready:
        raise Conflict(
            "the fix's test evidence does not allow a rollout yet: " + "; ".join(ready.missing)
        )
    approver = (approver or "").strip().lower() or None
    if policy.approval_required:
        if approver is None:
            raise Invalid(f"approver: the {policy.name} policy needs a named approver")
        if approver == actor.lower() and approvals.needs_second_person(
            settings, Step.EXPEDITED_ROLLOUT
        ):
            raise Forbidden(
                "four eyes: the approver must be someone other than the person starting it "
                "(VULNOPS_FOUR_EYES)"
            )
        try:
            user = await users.get_user_by_email(session, email=approver)
        except NotFound:
            user = None
        if (
            user is None
            or user.disabled
            or not has_permission(Role(user.role), Permission.ROLLOUTS_APPROVE)
        ):
            raise Invalid(f"approver: {approver!r} is not an active user who may approve rollouts")
    backend = backend or settings.rollout_backend
    health_source = health_source or settings.health_source
    # Built once here so that an unknown name or missing configuration is a 422 now.
    context = Context(settings=settings, database=None)
    registry.backend(backend, context)
    registry.health_source(health_source, context)
    active = await active_for(session, fix.service_id)
    if active is not None:
        raise Conflict(f"{shown.service} already has an active rollout ({active})")
    rollout = Rollout(
        fix_id=fix.id,
        case_id=fix.case_id,
        service_id=fix.service_id,
        target_version=fix.version,
        policy_name=policy.name,
        policy=policy.model_dump(mode="json"),
        backend=backend,
        health_source=health_source,
        status=(
            RolloutStatus.AWAITING_APPROVAL if policy.approval_required else RolloutStatus.RUNNING
        ).value,
        started_by=actor,
        approver=approver,
        evidence_overridden=ready.overridden,
        updated_at=now,
    )
    session.add(rollout)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"{shown.service} already has an active rollout") from None
    await _write_plan(session, rollout, shown)
    await transitions.record(
        session,
        rollout,
        "started",
        {
            "service": shown.service,
            "version": fix.version,
            "policy": policy.name,
            "stages": len(shown.plan.stages),
            "units": sum(len(s.unit_ids) for s in shown.plan.stages),
            "approver": approver,
            "evidence_overridden": ready.overridden,
        },
        actor=actor,
    )
    if policy.approval_required:
        await approvals.request(
            session,
            step=Step.EXPEDITED_ROLLOUT,
            subject=f"rollout:{rollout.id}",
            case_id=rollout.case_id,
            summary=f"{policy.name} rollout of {shown.service} {fix.version}",
            author=actor,
            approver=approver,
        )
    await transitions.tell_case(session, rollout, now=now, settings=settings, actor=actor)
    if rollout.status == RolloutStatus.RUNNING:
        await tasks.wake(session, rollout.id)
    return rollout


async def _write_plan(session: AsyncSession, rollout: Rollout, shown: PlanPreview) -> None:
    """The stages and their units, in two set-based inserts."""
    stages = shown.plan.stages
    await session.execute(
        insert(RolloutStage),
        [
            {
                "rollout_id": rollout.id,
                "index": s.index,
                "kind": s.kind.value,
                "regions": list(s.regions),
                "traffic": s.traffic,
                "status": StageStatus.PENDING.value,
            }
            for s in stages
        ],
    )
    await session.execute(
        insert(RolloutUnit),
        [
            {
                "rollout_id": rollout.id,
                "unit_id": unit_id,
                "stage": s.index,
                "from_version": shown.units[unit_id].version,
                "status": UnitStatus.PENDING.value,
            }
            for s in stages
            for unit_id in s.unit_ids
        ],
    )


async def get(session: AsyncSession, *, rollout_id: int, lock: bool = False) -> Rollout:
    query = select(Rollout).where(Rollout.id == rollout_id)
    rollout = await session.scalar(query.with_for_update() if lock else query)
    if rollout is None:
        raise NotFound(f"no rollout {rollout_id}")
    return rollout


async def list_rollouts(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    status: str | None = None,
    case_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[dict[str, Any]]:
    per_page = min(max(per_page, 1), 200)
    query = select(Rollout)
    if status == "active":
        query = query.where(Rollout.status.in_([s.value for s in ACTIVE]))
    elif status:
        query = query.where(Rollout.status == status)
    if case_id is not None:
        query = query.where(Rollout.case_id == case_id)
    if (hidden := access.hidden_case_ids(viewer)) is not None:
        query = query.where(Rollout.case_id.not_in(hidden))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rollouts = list(
        await session.scalars(
            query.order_by(Rollout.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page)
        )
    )
    return Page(await described(session, rollouts), total or 0, max(page, 1), per_page)


async def described(session: AsyncSession, rollouts: Sequence[Rollout]) -> list[dict[str, Any]]:
    """Rollouts as the API shows them: with their service and their units by status."""
    counts = await unit_counts(session, rollout_ids=[r.id for r in rollouts])
    keys = await fleet.service_keys(session, ids=sorted({r.service_id for r in rollouts}))
    return [
        {**summary(r), "service": keys.get(r.service_id, ""), "units": counts.get(r.id, {})}
        for r in rollouts
    ]


async def unit_counts(
    session: AsyncSession, *, rollout_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    if not rollout_ids:
        return {}
    rows = await session.execute(
        select(RolloutUnit.rollout_id, RolloutUnit.status, func.count())
        .where(RolloutUnit.rollout_id.in_(rollout_ids))
        .group_by(RolloutUnit.rollout_id, RolloutUnit.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for rollout_id, status, count in rows.all():
        counts.setdefault(rollout_id, {})[status] = count
    return counts


def summary(rollout: Rollout) -> dict[str, Any]:
    return {
        "id": rollout.id,
        "case_id": rollout.case_id,
        "fix_id": rollout.fix_id,
        "target_version": rollout.target_version,
        "policy": rollout.policy_name,
        "backend": rollout.backend,
        "health_source": rollout.health_source,
        "status": rollout.status,
        "status_reason": rollout.status_reason,
        "started_by": rollout.started_by,
        "approver": rollout.approver,
        "approved_at": rollout.approved_at,
        "evidence_overridden": rollout.evidence_overridden,
        "created_at": rollout.created_at,
        "updated_at": rollout.updated_at,
        "finished_at": rollout.finished_at,
    }


async def fixed_since(
    session: AsyncSession, *, case_id: int, unit_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each of these units got a fix of the case that is still on it (absent: not yet)."""
    if not unit_ids:
        return {}
    rows = await session.execute(
        select(RolloutUnit.unit_id, func.max(RolloutUnit.deployed_at))
        .join(Rollout, Rollout.id == RolloutUnit.rollout_id)
        .where(
            Rollout.case_id == case_id,
            RolloutUnit.unit_id.in_(list(unit_ids)),
            RolloutUnit.status == UnitStatus.DEPLOYED.value,
            RolloutUnit.deployed_at.is_not(None),
        )
        .group_by(RolloutUnit.unit_id)
    )
    return {unit_id: at for unit_id, at in rows.all() if at is not None}


async def first_unit_at(session: AsyncSession, *, case_id: int) -> datetime | None:
    """When the first deployment unit ran a fix of the case (the ``first_unit`` point of the
    program's measures; a unit rolled back later still counts: the fix had reached it)."""
    at: datetime | None = await session.scalar(
        select(func.min(RolloutUnit.deployed_at))
        .join(Rollout, Rollout.id == RolloutUnit.rollout_id)
        .where(Rollout.case_id == case_id)
    )
    return at
