"""What raises a page (the rules of :mod:`vulnops.oncall_config`): a case rated critical or
important, or whose SSVC decision is Act, pages the on-call of its services' escalation policy
(else the default) — once per case, whatever happens to it afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cases.milestones import CaseAssessed, CaseChanged
from vulnops.oncall import paging
from vulnops.oncall.models import Page
from vulnops.settings import Settings


def case_key(case_id: int) -> str:
    return f"case:{case_id}"


async def page_case(
    session: AsyncSession, event: CaseChanged | CaseAssessed, settings: Settings
) -> None:
    """Listener of :class:`CaseChanged` and :class:`CaseAssessed`: a case that now meets a rule
    and never paged, pages (a finished one does not)."""
    case = await cases.get_case(session, case_id=event.case_id)
    rated = case.rating in settings.page_ratings
    act = settings.page_on_act and (case.ssvc_decision or "").lower() == "act"
    if not (rated or act) or case.state in ("closed", "disclosed"):
        return
    key = case_key(case.id)
    if await session.scalar(select(Page.id).where(Page.dedup_key == key).limit(1)) is not None:
        return  # paged once already
    why = f"rated {case.rating}" if rated else "its SSVC decision is Act"
    await paging.raise_page(
        session,
        dedup_key=key,
        title=f"{case.tracking_id} is {why}: {case.title}"
        if not case.restricted
        else f"{case.tracking_id} is {why} (a need-to-know case)",
        details=f"Open the case: {settings.public_url.rstrip('/')}/cases/{case.id}",
        urgency=paging.urgency_of(case.rating) if rated else "high",
        source="case",
        services=list(case.services),
        actor="system",
        now=datetime.now(UTC),
        settings=settings,
        case_id=case.id,
    )
