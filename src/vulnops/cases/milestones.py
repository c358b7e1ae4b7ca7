"""Recording a case's milestones, and the state derived from them. Callers commit.

Every writer of a milestone comes here: a person's decision (``cases.service``), remediation
(fix ready), the rollout (deployment started, mitigated), notification (customers notified),
disclosure (approved, public, CVE published). :func:`apply` locks the case, writes the facts
(a fact recorded twice keeps the first), derives the state with ``states.derive_state``, copies
the deadline milestones' times to the case, records each change as an event and publishes
:class:`CaseChanged` for the domains that follow cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from vulnops import events
from vulnops.audit import service as audit
from vulnops.cases.deadlines import DEADLINES
from vulnops.cases.models import Case, CaseMilestone
from vulnops.cases.states import CaseState, Milestone, Move, Record, derive_state
from vulnops.errors import NotFound
from vulnops.settings import Settings


@dataclass(frozen=True)
class CaseChanged:
    """Milestones of a case were recorded or cleared (published once per :func:`apply`)."""

    case_id: int
    recorded: tuple[Milestone, ...]
    cleared: tuple[Milestone, ...]
    before: CaseState
    after: CaseState
    at: datetime
    actor: str


@dataclass(frozen=True)
class CaseAssessed:
    """A case's severity was assessed (its rating or SSVC decision may have changed)."""

    case_id: int
    rating: str | None
    ssvc_decision: str | None


@dataclass(frozen=True)
class CaseClosing:
    """A person is about to close the case: a listener that finds something missing (the
    root-cause analysis) raises, and the case stays open."""

    case_id: int
    rating: str | None


@dataclass(frozen=True)
class MilestoneView:
    milestone: Milestone
    at: datetime
    actor: str
    source: str
    reason: str | None
    skipped: bool


def has(case_id: ColumnElement[int] | InstrumentedAttribute[int], milestone: Milestone) -> Exists:
    """SQL: the case ``case_id`` (a column of the caller's query) has reached ``milestone``."""
    return exists().where(
        CaseMilestone.case_id == case_id, CaseMilestone.milestone == milestone.value
    )


async def locked_case(session: AsyncSession, case_id: int) -> Case:
    case = await session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


async def reached(session: AsyncSession, *, case_id: int) -> dict[Milestone, MilestoneView]:
    """The case's milestones, in lifecycle order."""
    rows = await session.scalars(select(CaseMilestone).where(CaseMilestone.case_id == case_id))
    found = {
        Milestone(row.milestone): MilestoneView(
            milestone=Milestone(row.milestone),
            at=row.at,
            actor=row.actor,
            source=row.source,
            reason=row.reason,
            skipped=row.skipped,
        )
        for row in rows
    }
    return {m: found[m] for m in Milestone if m in found}


async def apply(
    session: AsyncSession,
    *,
    case_id: int,
    move: Move,
    at: datetime,
    actor: str,
    settings: Settings,
    source: str = "hand",
    reason: str | None = None,
    clear_only_from: str | None = None,
) -> Case:
    """Record and clear what ``move`` says, then derive the state.

    ``clear_only_from``: clear a milestone only when its source starts with this (a rollback
    clears the rollout's mitigation, never a person's).
    """
    case = await locked_case(session, case_id)
    before = CaseState(case.state)
    recorded: list[Record] = []
    for item in move.record:
        inserted = await session.scalar(
            insert(CaseMilestone)
            .values(
                case_id=case_id,
                milestone=item.milestone.value,
                at=at,
                actor=actor,
                source=source,
                reason=(reason or "").strip() or None,
                skipped=item.skipped,
            )
            .on_conflict_do_nothing()
            .returning(CaseMilestone.milestone)
        )
        if inserted is not None:
            recorded.append(item)
    cleared: list[Milestone] = []
    for milestone in move.clear:
        stmt = delete(CaseMilestone).where(
            CaseMilestone.case_id == case_id, CaseMilestone.milestone == milestone.value
        )
        if clear_only_from is not None:
            stmt = stmt.where(CaseMilestone.source.startswith(clear_only_from, autoescape=True))
        if await session.scalar(stmt.returning(CaseMilestone.milestone)) is not None:
            cleared.append(milestone)
    if not recorded and not cleared:
        return case
    facts = await reached(session, case_id=case_id)
    after = derive_state(facts)
    case.state = after.value
    for milestone, (_, reached_column, _) in DEADLINES.items():
        setattr(case, reached_column, facts[milestone].at if milestone in facts else None)
    ended = facts.get(Milestone.CLOSED) or facts.get(Milestone.REJECTED)
    case.closed_at = ended.at if ended else None
    await session.flush()
    for item in recorded:
        await audit.record(
            session,
            subject=f"case:{case_id}",
            kind="case.milestone_recorded",
            actor=actor,
            data={
                "milestone": item.milestone.value,
                "at": at,
                "source": source,
                "skipped": item.skipped,
                "reason": (reason or "").strip() or None,
            },
        )
        await _breach_if_late(session, case, item.milestone, at=at, actor=actor)
    for milestone in cleared:
        await audit.record(
            session,
            subject=f"case:{case_id}",
            kind="case.milestone_cleared",
            actor=actor,
            data={"milestone": milestone.value, "source": source, "reason": reason},
        )
    if after is not before:
        await audit.record(
            session,
            subject=f"case:{case_id}",
            kind="case.state_changed",
            actor=actor,
            data={"from": before.value, "to": after.value, "reason": reason},
        )
    await events.publish(
        session,
        CaseChanged(
            case_id=case_id,
            recorded=tuple(item.milestone for item in recorded),
            cleared=tuple(cleared),
            before=before,
            after=after,
            at=at,
            actor=actor,
        ),
        settings=settings,
    )
    return case


async def record(
    session: AsyncSession,
    *,
    case_id: int,
    milestones: Sequence[Milestone],
    at: datetime,
    actor: str,
    source: str,
    settings: Settings,
    reason: str | None = None,
) -> Case:
    """Record facts the caller's domain made true (a fact recorded before keeps its first time)."""
    move = Move(record=tuple(Record(m) for m in milestones))
    return await apply(
        session,
        case_id=case_id,
        move=move,
        at=at,
        actor=actor,
        source=source,
        reason=reason,
        settings=settings,
    )


async def clear(
    session: AsyncSession,
    *,
    case_id: int,
    milestones: Sequence[Milestone],
    at: datetime,
    actor: str,
    source: str,
    reason: str,
    settings: Settings,
) -> Case:
    """Clear facts that are no longer true, if the caller's ``source`` made them."""
    return await apply(
        session,
        case_id=case_id,
        move=Move(clear=tuple(milestones)),
        at=at,
        actor=actor,
        source=source,
        reason=reason,
        settings=settings,
        clear_only_from=source.split(":", 1)[0],
    )


async def _breach_if_late(
    session: AsyncSession, case: Case, milestone: Milestone, *, at: datetime, actor: str
) -> None:
    """A deadline milestone reached late is recorded as a breach at once (the periodic job
    records the ones still unmet)."""
    if milestone not in DEADLINES:
        return
    deadline, _, due_column = DEADLINES[milestone]
    due, name = getattr(case, due_column), deadline.value
    if due is None or at <= due or name in case.breaches_recorded:
        return
    case.breaches_recorded = [*case.breaches_recorded, name]
    await session.flush()
    await audit.record(
        session,
        subject=f"case:{case.id}",
        kind="case.sla_breached",
        actor=actor,
        data={"milestone": name, "due": due, "reached": at},
    )
