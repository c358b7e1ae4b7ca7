"""Disclosing a case: asked for by one person under the rules of ``rules.py``, approved by
another (four eyes), public once its embargo ends. Callers commit."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.states import Milestone
from vulnops.disclosure import guard, public_text, rules, service
from vulnops.disclosure.models import Disclosure
from vulnops.disclosure.publishing import disclosure_row, event, facts, reserve_cve
from vulnops.disclosure.schemas import DisclosureOut, PublicTextOut
from vulnops.errors import Conflict, Forbidden, Invalid
from vulnops.settings import Settings

log = logging.getLogger(__name__)


def approval_subject(case_id: int) -> str:
    return f"disclosure:{case_id}"


async def request_disclosure(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    is_admin: bool,
    settings: Settings,
    now: datetime,
    public_from: datetime | None = None,
    cve_choice: Literal["reserve", "without"] | None = None,
    without_cve_reason: str | None = None,
    override_reason: str | None = None,
) -> Disclosure:
    """Ask for the case's public disclosure from ``public_from`` (default: when it is
    approved; until then it is under embargo); a second person approves it. Refused unless the
    rules hold: customers notified (an administrator may override with a reason), the public
    text approved, and — when the policy says a CVE is needed and none is reserved — an
    explicit choice: reserve one now, or disclose without one, with the reason kept."""
    if public_from is not None and public_from < now:
        raise Invalid(f"public_from: {public_from:%Y-%m-%d %H:%M} is in the past")
    row = await disclosure_row(session, case_id)
    if row.disclosed_at is not None:
        raise Conflict(f"the case was disclosed on {row.disclosed_at:%Y-%m-%d}")
    without = (without_cve_reason or "").strip() or None
    if cve_choice == "without" and without is None:
        raise Invalid("without_cve_reason: say why the case is disclosed without a CVE")
    if cve_choice != "without" and without is not None:
        raise Invalid("without_cve_reason goes with cve_choice=without")
    known = await facts(session, case_id=case_id, row=row, settings=settings, now=now)
    reserving = cve_choice == "reserve" and known.cve_needed and known.cve_id is None
    if cve_choice == "reserve" and not reserving:
        raise Conflict(
            "cve_choice=reserve: the case needs no new CVE id (none is needed, or it has one)"
        )
    assumed = replace(
        known, cve_id="reserving" if reserving else known.cve_id, without_cve_reason=without
    )
    await guard.enforce(
        session,
        case_id=case_id,
        unmet=rules.to_approve_disclosure(assumed),
        doing="ask for the disclosure",
        actor=actor,
        is_admin=is_admin,
        override_reason=override_reason,
    )
    if reserving:
        await reserve_cve(session, case_id=case_id, actor=actor, settings=settings, now=now)
    row.requested_public_from, row.requested_by = public_from, actor
    row.without_cve_reason = without
    when = f"{public_from:%Y-%m-%d %H:%M} UTC" if public_from else "when approved"
    case = await cases.get_case(session, case_id=case_id)
    await approvals.request(
        session,
        step=Step.DISCLOSURE,
        subject=approval_subject(case_id),
        case_id=case_id,
        summary=f"Disclose {case.tracking_id} publicly from {when}",
        author=actor,
    )
    await event(
        session,
        case_id,
        "requested",
        actor,
        public_from=public_from,
        without_cve_reason=without,
        overridden=override_reason,
    )
    return row


async def decide_disclosure(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> Disclosure:
    """The second person's decision on the asked-for disclosure. Approved, the case is
    disclosed from the asked date (or now) and public once that passes; rejected, the request
    ends with the comment and can be made again."""
    row = await disclosure_row(session, case_id)
    if row.requested_by is None or row.disclosed_at is not None:
        raise Conflict("no disclosure of this case waits for approval")
    if approve:
        known = await facts(session, case_id=case_id, row=row, settings=settings, now=now)
        missing = [u for u in rules.to_approve_disclosure(known) if not u.overridable]
        if missing:
            raise Conflict(
                "cannot approve the disclosure: " + "; ".join(u.message for u in missing),
                unmet=[u.rule.value for u in missing],
            )
    await approvals.decide(
        session,
        subject=approval_subject(case_id),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if not approve:
        row.requested_public_from, row.requested_by, row.without_cve_reason = None, None, None
        await event(session, case_id, "rejected", actor, comment=comment)
        return row
    start = row.requested_public_from
    row.public_from = start if start is not None and start > now else now
    row.disclosed_at, row.disclosed_by = now, actor
    await event(session, case_id, "approved", actor, public_from=row.public_from)
    await milestones.record(
        session,
        case_id=case_id,
        milestones=[Milestone.DISCLOSURE_APPROVED],
        at=now,
        actor=actor,
        source="disclosure",
        settings=settings,
    )
    if row.public_from <= now:
        await _went_public(session, row, settings=settings)
    return row


async def _went_public(session: AsyncSession, row: Disclosure, *, settings: Settings) -> None:
    assert row.public_from is not None
    await milestones.record(
        session,
        case_id=row.case_id,
        milestones=[Milestone.PUBLIC],
        at=row.public_from,
        actor=audit.SYSTEM_ACTOR,
        source="disclosure",
        reason="the embargo ended",
        settings=settings,
    )


async def end_embargo(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    is_admin: bool,
    reason: str,
    settings: Settings,
    now: datetime,
) -> Disclosure:
    """End an approved disclosure's embargo now (the issue became public elsewhere): an
    administrator's override of the embargo, with a reason, on the case's timeline."""
    if not reason.strip():
        raise Invalid("reason: say why the embargo ends early")
    if not is_admin:
        raise Forbidden("only an administrator ends an embargo early")
    row = await disclosure_row(session, case_id)
    if row.disclosed_at is None or row.public_from is None:
        raise Conflict("the case's disclosure is not approved: there is no embargo to end")
    if row.public_from <= now:
        raise Conflict(f"the case is public since {row.public_from:%Y-%m-%d %H:%M} UTC")
    planned, row.public_from = row.public_from, now
    await event(session, case_id, "embargo_ended", actor, planned=planned, reason=reason.strip())
    await _went_public(session, row, settings=settings)
    return row


async def embargoes_ended(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """Record ``public`` for every approved disclosure whose embargo has ended (the periodic
    job; the public pages read ``public_from`` itself, so nothing waits for it). Each case in a
    savepoint of its own: one that fails (logged) does not hold the others back."""
    rows = await session.scalars(
        select(Disclosure)
        .where(
            Disclosure.disclosed_at.is_not(None),
            Disclosure.public_from <= now,
            ~milestones.has(Disclosure.case_id, Milestone.PUBLIC),
        )
        .with_for_update(skip_locked=True)
    )
    recorded = 0
    for row in list(rows):
        try:
            async with session.begin_nested():
                await _went_public(session, row, settings=settings)
        except Exception:
            log.exception("case %s: recording the end of its embargo failed", row.case_id)
            continue
        recorded += 1
    return recorded


async def state(
    session: AsyncSession, *, case_id: int, settings: Settings, now: datetime
) -> DisclosureOut:
    """Everything the case's disclosure card and ``GET …/disclosure`` show."""
    await cases.get_case(session, case_id=case_id)
    row = await session.get(Disclosure, case_id)
    made = await service.decision(session, case_id=case_id, settings=settings)
    reached = await milestones.reached(session, case_id=case_id)
    approved = await public_text.approved(session, case_id=case_id)
    newest = await public_text.latest(session, case_id=case_id)
    return DisclosureOut(
        policy=settings.cve_policy,
        cve=made.cve,
        reason=made.reason,
        tags=list(made.tags),
        cve_id=row.cve_id if row else None,
        cve_reserved_at=row.cve_reserved_at if row else None,
        cve_published_at=row.cve_published_at if row else None,
        cve_publish_requested_by=row.cve_publish_requested_by if row else None,
        cve_publish_error=row.cve_publish_error if row else None,
        no_cve_reason=row.no_cve_reason if row else None,
        without_cve_reason=row.without_cve_reason if row else None,
        requested_public_from=row.requested_public_from if row else None,
        requested_by=row.requested_by if row else None,
        public_from=row.public_from if row else None,
        disclosed_at=row.disclosed_at if row else None,
        disclosed_by=row.disclosed_by if row else None,
        notified=Milestone.CUSTOMERS_NOTIFIED in reached,
        public=row is not None
        and row.public_from is not None
        and row.public_from <= now
        and row.disclosed_at is not None,
        public_text=PublicTextOut.model_validate(approved) if approved else None,
        public_text_draft=PublicTextOut.model_validate(newest)
        if newest is not None and newest.status == "draft"
        else None,
        four_eyes=approvals.needs_second_person(settings, Step.DISCLOSURE),
    )
