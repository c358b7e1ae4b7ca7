"""What a case learns from its rollouts, level-triggered: after any change of a rollout, the
case's deployment milestones are made to agree with all of the case's rollouts.

- ``deployment_started`` while a rollout of the case's fix is deploying (running, paused, or
  halted with no failed gate) or has completed;
- ``mitigated`` when every service the case has a fix for has a completed rollout — recorded
  whatever state the case was in (what it skipped is recorded as skipped), and cleared again
  when a rollback leaves a fixed service without one (a person's mitigation stays).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import milestones
from vulnops.cases.states import Milestone, deployed
from vulnops.remediation import service as remediation
from vulnops.rollout.decide import RolloutStatus, StageStatus
from vulnops.rollout.models import Rollout, RolloutStage
from vulnops.settings import Settings

_DEPLOYING = frozenset({RolloutStatus.RUNNING, RolloutStatus.PAUSED})


async def sync_case(
    session: AsyncSession,
    *,
    case_id: int,
    rollout_id: int,
    now: datetime,
    actor: str,
    settings: Settings,
) -> None:
    """Record or clear the case's deployment milestones from its rollouts (``rollout_id``: the
    rollout whose change this follows, named as the facts' source). The case is locked first:
    two rollouts of one case finishing at once see each other's outcome."""
    await milestones.locked_case(session, case_id)
    failed = exists().where(
        RolloutStage.rollout_id == Rollout.id, RolloutStage.status == StageStatus.FAILED.value
    )
    rows = (
        await session.execute(
            select(Rollout.service_id, Rollout.status, failed.label("failed")).where(
                Rollout.case_id == case_id
            )
        )
    ).all()
    deploying = any(
        status in _DEPLOYING
        or status == RolloutStatus.COMPLETED
        or (status == RolloutStatus.HALTED and not has_failed)
        for _, status, has_failed in rows
    )
    completed = {service for service, status, _ in rows if status == RolloutStatus.COMPLETED}
    fixed = {fix.service_id for fix in await remediation.fixes_of_case(session, case_id=case_id)}
    source = f"rollout:{rollout_id}"
    if deploying:
        await milestones.record(
            session,
            case_id=case_id,
            milestones=[Milestone.DEPLOYMENT_STARTED],
            at=now,
            actor=actor,
            source=source,
            settings=settings,
        )
    else:
        await milestones.clear(
            session,
            case_id=case_id,
            milestones=[Milestone.DEPLOYMENT_STARTED],
            at=now,
            actor=actor,
            source=source,
            reason="no rollout of the fix is deploying",
            settings=settings,
        )
    if fixed and fixed <= completed:
        reached = await milestones.reached(session, case_id=case_id)
        await milestones.apply(
            session,
            case_id=case_id,
            move=deployed(reached),
            at=now,
            actor=actor,
            source=source,
            reason="the fix runs on every unit",
            settings=settings,
        )
    else:
        await milestones.clear(
            session,
            case_id=case_id,
            milestones=[Milestone.MITIGATED],
            at=now,
            actor=actor,
            source=source,
            reason="the fix was rolled back: a fixed service has no completed rollout",
            settings=settings,
        )
