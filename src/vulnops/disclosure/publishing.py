"""A case's CVE: "no CVE" with a reason, reserving it and publishing its record through CVE
Services (now, or by the scheduled job when the embargo ends) — held to the rules of
``rules.py`` by ``guard.enforce``. Callers commit."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.states import Milestone
from vulnops.db.writes import flush_unique
from vulnops.disclosure import cve_services, guard, public_text, rules, service
from vulnops.disclosure.models import Disclosure
from vulnops.errors import Conflict, DomainError, Forbidden, Invalid, Upstream
from vulnops.settings import Settings


async def disclosure_row(session: AsyncSession, case_id: int) -> Disclosure:
    """The case's disclosure row, locked for the caller's transaction (made when missing).

    Made with ``ON CONFLICT DO NOTHING`` and then locked: two requests that both found no row
    (two reservations at once) would otherwise both insert it, and the second fail on the key;
    this way the second waits for the first and then reads what it did."""
    await cases.get_case(session, case_id=case_id)
    await session.execute(insert(Disclosure).values(case_id=case_id).on_conflict_do_nothing())
    found = await session.get(Disclosure, case_id, with_for_update=True)
    assert found is not None  # inserted above, and a disclosure row is never deleted
    return found


async def event(session: AsyncSession, case_id: int, kind: str, actor: str, **data: Any) -> None:
    """A ``disclosure.<kind>`` event on the case's timeline."""
    await audit.record(
        session, subject=cases.subject(case_id), kind=f"disclosure.{kind}", actor=actor, data=data
    )


async def facts(
    session: AsyncSession,
    *,
    case_id: int,
    row: Disclosure | None,
    settings: Settings,
    now: datetime,
    record_problems: tuple[str, ...] = (),
) -> rules.Facts:
    """What the rules read about the case now (``record_problems``: what keeps its CVE record
    from validating, when the caller built one)."""
    reached = await milestones.reached(session, case_id=case_id)
    made = await service.decision(session, case_id=case_id, settings=settings)
    text = await public_text.approved(session, case_id=case_id)
    return rules.Facts(
        now=now,
        rejected=Milestone.REJECTED in reached,
        customers_notified=Milestone.CUSTOMERS_NOTIFIED in reached,
        public_text_approved=text is not None,
        cve_needed=made.cve,
        cve_id=row.cve_id if row else None,
        without_cve_reason=row.without_cve_reason if row else None,
        disclosed_at=row.disclosed_at if row else None,
        public_from=row.public_from if row else None,
        record_problems=record_problems,
        mitigated=Milestone.MITIGATED in reached,
    )


async def mark_no_cve(
    session: AsyncSession, *, case_id: int, reason: str | None, actor: str
) -> Disclosure:
    """Decide that the case gets no CVE, whatever the policy says (None: let the policy say)."""
    row = await disclosure_row(session, case_id)
    if row.cve_published_at is not None:
        raise Conflict(f"{row.cve_id} is published already; it cannot become no CVE")
    row.no_cve_reason = reason.strip() if reason and reason.strip() else None
    await event(session, case_id, "no_cve", actor, reason=row.no_cve_reason)
    return row


async def _needs_cve(session: AsyncSession, case_id: int, settings: Settings) -> None:
    made = await service.decision(session, case_id=case_id, settings=settings)
    if not made.cve:
        raise Conflict(f"this case gets no CVE: {made.reason}")


async def reserve_cve(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    settings: Settings,
    now: datetime,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Reserve a CVE id for the case in CVE Services and keep it. An answer that names no CVE
    id is an :class:`Upstream` error (502) and an id another case holds a :class:`Conflict`
    (409): either way nothing of the reservation is kept."""
    row = await disclosure_row(session, case_id)
    if row.cve_id is not None:
        raise Conflict(f"the case has {row.cve_id} already")
    await _needs_cve(session, case_id, settings)
    if dry_run:
        return {"dry_run": True, "request": cve_services.reserve_request(settings, year=now.year)}
    cve_id = await cve_services.CveServices(settings).reserve(year=now.year)
    row.cve_id, row.cve_reserved_at = cve_id, now
    # The case is not named: it may be restricted to a team the caller is not on.
    await flush_unique(
        session,
        conflict=f"CVE Services answered with {cve_id}, which another case holds already; "
        "nothing was recorded: CVE Services and vulnops disagree about this id, so look it up "
        "in CVE Services before reserving again",
    )
    await event(session, case_id, "cve_reserved", actor, cve_id=cve_id)
    return {"dry_run": False, "cve_id": cve_id}


async def publish_cve(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    settings: Settings,
    now: datetime,
    is_admin: bool = False,
    dry_run: bool = False,
    when_public: bool = False,
    override_reason: str | None = None,
) -> dict[str, Any]:
    """Publish the case's CVE record — a published CVE cannot be taken back, so every rule of
    ``rules.to_publish_cve`` must hold (an approved disclosure whose embargo has ended, the
    customers notified, the approved public text, a valid record). ``when_public``: during the
    embargo, have the scheduled job publish it when the embargo ends. ``dry_run``: the request
    that would be sent, and the rules that refuse it now; nothing changes."""
    row = await disclosure_row(session, case_id)
    if row.cve_id is None:
        raise Conflict("reserve a CVE id first")
    if row.cve_published_at is not None:
        raise Conflict(f"{row.cve_id} was published on {row.cve_published_at:%Y-%m-%d}")
    await _needs_cve(session, case_id, settings)
    document: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()
    if not await service.record_missing(session, case_id=case_id, settings=settings):
        document, found = await service.cve_record(
            session, case_id=case_id, cve_id=row.cve_id, settings=settings
        )
        problems = tuple(found)
    known = await facts(
        session, case_id=case_id, row=row, settings=settings, now=now, record_problems=problems
    )
    unmet = rules.to_publish_cve(known)
    if dry_run:
        request = None
        if document is not None:
            request = cve_services.publish_request(
                settings, cve_id=row.cve_id, container=document["containers"]["cna"]
            )
        return {"dry_run": True, "request": request, "refused": [u.message for u in unmet]}
    if when_public and rules.only_waiting_for_embargo(unmet):
        row.cve_publish_requested_by, row.cve_publish_error = actor, None
        await event(
            session, case_id, "cve_publish_scheduled", actor, cve_id=row.cve_id, at=row.public_from
        )
        return {"dry_run": False, "cve_id": row.cve_id, "scheduled_for": row.public_from}
    await guard.enforce(
        session,
        case_id=case_id,
        unmet=unmet,
        doing=f"publish {row.cve_id}",
        actor=actor,
        is_admin=is_admin,
        override_reason=override_reason,
    )
    assert document is not None  # the rules refuse without an approved public text
    await cve_services.CveServices(settings).publish(
        cve_id=row.cve_id, container=document["containers"]["cna"]
    )
    row.cve_published_at = now
    row.cve_publish_requested_by, row.cve_publish_error = None, None
    await event(session, case_id, "cve_published", actor, cve_id=row.cve_id)
    await milestones.record(
        session,
        case_id=case_id,
        milestones=[Milestone.CVE_PUBLISHED],
        at=now,
        actor=actor,
        source=f"cve:{row.cve_id}",
        settings=settings,
    )
    return {"dry_run": False, "cve_id": row.cve_id}


async def record_published_cve(
    session: AsyncSession,
    *,
    case_id: int,
    cve_id: str,
    published_at: datetime,
    actor: str,
    is_admin: bool,
    reason: str,
    settings: Settings,
) -> Disclosure:
    """Record a CVE that was published for the case outside vulnops (before it was in use, or
    by another CNA): an administrator's statement of a fact, with a reason; nothing is sent."""
    if not is_admin:
        raise Forbidden("only an administrator records a CVE published elsewhere")
    if not reason.strip():
        raise Invalid("reason: say where and why the CVE was published outside vulnops")
    if not re.match(service.CVE_ID, cve_id):
        raise Invalid(f"cve_id: {cve_id!r} is not a CVE id (CVE-YYYY-NNNN)")
    row = await disclosure_row(session, case_id)
    if row.cve_id is not None and row.cve_id != cve_id:
        raise Conflict(f"the case has {row.cve_id} already")
    if row.cve_published_at is not None:
        raise Conflict(f"{row.cve_id} is recorded as published already")
    row.cve_id, row.cve_published_at = cve_id, published_at
    row.cve_reserved_at = row.cve_reserved_at or published_at
    await flush_unique(session, conflict=f"{cve_id} belongs to another case")
    await event(
        session, case_id, "cve_recorded", actor, cve_id=cve_id, at=published_at, reason=reason
    )
    await milestones.record(
        session,
        case_id=case_id,
        milestones=[Milestone.CVE_PUBLISHED],
        at=published_at,
        actor=actor,
        source="external",
        reason=reason,
        settings=settings,
    )
    return row


async def due_publications(session: AsyncSession, *, now: datetime) -> list[int]:
    """The cases whose CVE someone asked to publish when the embargo ends, now ended."""
    rows = await session.scalars(
        select(Disclosure.case_id).where(
            Disclosure.cve_publish_requested_by.is_not(None),
            Disclosure.cve_published_at.is_(None),
            Disclosure.public_from <= now,
        )
    )
    return list(rows)


async def publish_scheduled(
    session: AsyncSession, *, case_id: int, settings: Settings, now: datetime
) -> str:
    """Publish one case's scheduled CVE, as the person who asked, under every rule (no
    override). An unreachable CVE Services is tried again on the next run; a rule that no
    longer holds cancels the request (the timeline says why)."""
    row = await disclosure_row(session, case_id)
    requested_by = row.cve_publish_requested_by
    if requested_by is None or row.cve_published_at is not None:
        return "nothing to do"
    try:
        async with session.begin_nested():
            await publish_cve(
                session, case_id=case_id, actor=requested_by, settings=settings, now=now
            )
    except Upstream as error:
        row.cve_publish_error = error.detail
        return "retry"
    except DomainError as error:
        row.cve_publish_requested_by, row.cve_publish_error = None, error.detail
        await event(session, case_id, "cve_publish_cancelled", requested_by, reason=error.detail)
        return "cancelled"
    return "published"
