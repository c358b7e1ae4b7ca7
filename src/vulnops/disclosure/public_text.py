"""The public text of a case: drafted on the case, approved by a second person, then the only
text a public page, a CVE record or a CSAF document reads. Callers commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.db.writes import flush_unique
from vulnops.disclosure.models import PublicText
from vulnops.disclosure.schemas import PublicTextIn
from vulnops.errors import Conflict
from vulnops.settings import Settings


def approval_subject(text: PublicText) -> str:
    return f"public_text:{text.id}"


async def latest(session: AsyncSession, *, case_id: int, lock: bool = False) -> PublicText | None:
    query = (
        select(PublicText)
        .where(PublicText.case_id == case_id)
        .order_by(PublicText.number.desc())
        .limit(1)
    )
    found: PublicText | None = await session.scalar(query.with_for_update() if lock else query)
    return found


async def approved(session: AsyncSession, *, case_id: int) -> PublicText | None:
    """The text in use: the newest approved version."""
    found: PublicText | None = await session.scalar(
        select(PublicText)
        .where(PublicText.case_id == case_id, PublicText.status == "approved")
        .order_by(PublicText.number.desc())
        .limit(1)
    )
    return found


async def save_draft(
    session: AsyncSession, *, case_id: int, text: PublicTextIn, actor: str
) -> PublicText:
    """Write the next version (or change the waiting draft); it waits for approval, and the
    approved version stays in use until then."""
    case = await cases.get_case(session, case_id=case_id)
    current = await latest(session, case_id=case_id, lock=True)
    if current is None or current.status == "approved":
        draft = PublicText(
            case_id=case_id, number=(current.number + 1) if current else 1, created_by=actor
        )
        session.add(draft)
    else:
        draft = current
    for field, value in text.model_dump().items():
        setattr(draft, field, value)
    draft.status = "draft"
    await flush_unique(session, conflict="another draft of the public text was saved just now")
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="public_text.drafted",
        actor=actor,
        data={"version": draft.number, "title": draft.title},
    )
    await approvals.request(
        session,
        step=Step.PUBLIC_TEXT,
        subject=approval_subject(draft),
        case_id=case_id,
        summary=f"Public text version {draft.number} of {case.tracking_id}: {draft.title}",
        author=actor,
    )
    return draft


async def decide(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> PublicText:
    """Approve the draft (someone who did not write it) or send it back with a comment."""
    draft = await latest(session, case_id=case_id, lock=True)
    if draft is None or draft.status != "draft":
        raise Conflict("no draft of the public text waits for approval")
    await approvals.decide(
        session,
        subject=approval_subject(draft),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if approve:
        draft.status, draft.approved_by, draft.approved_at = "approved", actor, now
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="public_text.approved" if approve else "public_text.rejected",
        actor=actor,
        data={"version": draft.number, "comment": comment},
    )
    return draft
