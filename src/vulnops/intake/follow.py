"""Reports follow their case: accepted, resolved when the case is mitigated, published when its
advisory is public — each change told to the reporter by email (with the advisory's link)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.milestones import CaseChanged
from vulnops.cases.states import Milestone
from vulnops.intake import notices
from vulnops.intake.models import Report
from vulnops.intake.states import FOLLOWING, ReportState, following
from vulnops.settings import Settings

_WATCHED = frozenset({Milestone.MITIGATED, Milestone.PUBLIC})


async def state_for(session: AsyncSession, *, case_id: int) -> ReportState:
    """The state a report of this case follows to now."""
    reached = await milestones.reached(session, case_id=case_id)
    return following(Milestone.MITIGATED in reached, Milestone.PUBLIC in reached)


async def follow_case(session: AsyncSession, event: CaseChanged, settings: Settings) -> None:
    """The listener of :class:`CaseChanged`: move the case's following reports, in one update."""
    if not _WATCHED & {*event.recorded, *event.cleared}:
        return
    target = await state_for(session, case_id=event.case_id)
    moved = list(
        await session.scalars(
            update(Report)
            .where(
                Report.case_id == event.case_id,
                Report.state.in_([s.value for s in FOLLOWING]),
                Report.state != target.value,
            )
            .values(state=target.value)
            .returning(Report.id)
        )
    )
    if not moved:
        return
    case = await cases.get_case(session, case_id=event.case_id)
    note = _note(target, settings, case.tracking_id)
    for report in await session.scalars(
        select(Report).where(Report.id.in_(moved)).order_by(Report.id)
    ):
        await audit.record(
            session,
            subject=f"report:{report.id}",
            kind="report.state_changed",
            actor=event.actor,
            data={"to": target.value, "because": "its case changed", "note": note},
        )
        await notices.status_changed(session, settings=settings, report=report, note=note)


def _note(state: ReportState, settings: Settings, tracking_id: str) -> str:
    if state is ReportState.PUBLISHED:
        return f"The advisory is public: {settings.advisory_url(tracking_id)}"
    if state is ReportState.RESOLVED:
        return "The fix is live everywhere. Thank you for your report."
    return "The issue is being worked on again."
