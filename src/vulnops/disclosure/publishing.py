"""Disclosing a case: "no CVE" with a reason, reserving and publishing its CVE through CVE
Services, and the public disclosure — never before the affected customers were told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.disclosure import cve_services, service
from vulnops.disclosure.models import Disclosure
from vulnops.errors import Conflict, Invalid
from vulnops.notify import service as notify
from vulnops.settings import Settings


async def _row(session: AsyncSession, case_id: int) -> Disclosure:
    await cases.get_case(session, case_id=case_id)
    found = await session.get(Disclosure, case_id, with_for_update=True)
    if found is None:
        found = Disclosure(case_id=case_id)
        session.add(found)
        await session.flush()
    return found


async def _event(session: AsyncSession, case_id: int, kind: str, actor: str, **data: Any) -> None:
    await audit.record(
        session, subject=cases.subject(case_id), kind=f"disclosure.{kind}", actor=actor, data=data
    )


async def mark_no_cve(
    session: AsyncSession, *, case_id: int, reason: str | None, actor: str
) -> Disclosure:
    """Decide that the case gets no CVE, whatever the policy says (None: let the policy say)."""
    row = await _row(session, case_id)
    if row.cve_published_at is not None:
        raise Conflict(f"{row.cve_id} is published already; it cannot become no CVE")
    row.no_cve_reason = reason.strip() if reason and reason.strip() else None
    await _event(session, case_id, "no_cve", actor, reason=row.no_cve_reason)
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
    row = await _row(session, case_id)
    if row.cve_id is not None:
        raise Conflict(f"the case has {row.cve_id} already")
    await _needs_cve(session, case_id, settings)
    if dry_run:
        return {"dry_run": True, "request": cve_services.reserve_request(settings, year=now.year)}
    cve_id = await cve_services.CveServices(settings).reserve(year=now.year)
    row.cve_id, row.cve_reserved_at = cve_id, now
    await _event(session, case_id, "cve_reserved", actor, cve_id=cve_id)
    return {"dry_run": False, "cve_id": cve_id}


async def publish_cve(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    settings: Settings,
    now: datetime,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Publish the case's CVE record; it must be valid, and the customers told first."""
    row = await _row(session, case_id)
    if row.cve_id is None:
        raise Conflict("reserve a CVE id first")
    if row.cve_published_at is not None:
        raise Conflict(f"{row.cve_id} was published on {row.cve_published_at:%Y-%m-%d}")
    await _needs_cve(session, case_id, settings)
    if not dry_run and await notify.notification_sent_at(session, case_id=case_id) is None:
        raise Conflict("the affected customers have not been notified yet; send the advisory")
    document, problems = await service.cve_record(
        session, case_id=case_id, cve_id=row.cve_id, settings=settings, now=now
    )
    if problems:
        raise Invalid(
            f"the CVE record of {row.cve_id} is not valid",
            errors=[
                {"field": p.partition(": ")[0], "message": p.partition(": ")[2]} for p in problems
            ],
        )
    container = document["containers"]["cna"]
    if dry_run:
        return {
            "dry_run": True,
            "request": cve_services.publish_request(
                settings, cve_id=row.cve_id, container=container
            ),
        }
    await cve_services.CveServices(settings).publish(cve_id=row.cve_id, container=container)
    row.cve_published_at = now
    await _event(session, case_id, "cve_published", actor, cve_id=row.cve_id)
    return {"dry_run": False, "cve_id": row.cve_id}


async def disclose(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    is_admin: bool,
    now: datetime,
    public_from: datetime | None = None,
    override_reason: str | None = None,
) -> Disclosure:
    """Approve the case's public disclosure from ``public_from`` (default: now; until then it
    is under embargo). Refused before the customers were notified, unless an administrator
    overrides with a reason."""
    if public_from is not None and public_from < now:
        raise Invalid(f"public_from: {public_from:%Y-%m-%d %H:%M} is in the past")
    row = await _row(session, case_id)
    if row.disclosed_at is not None:
        raise Conflict(f"the case was disclosed on {row.disclosed_at:%Y-%m-%d}")
    await notify.check_notified(
        session, case_id=case_id, actor=actor, is_admin=is_admin, override_reason=override_reason
    )
    case = await cases.get_case(session, case_id=case_id)
    if case.state != CaseState.DISCLOSED.value:
        await cases.transition(
            session,
            case_id=case_id,
            target=CaseState.DISCLOSED,
            reason=None,
            actor=actor,
            now=now,
        )
    row.public_from, row.disclosed_at, row.disclosed_by = public_from or now, now, actor
    await _event(session, case_id, "approved", actor, public_from=row.public_from)
    return row


async def state(session: AsyncSession, *, case_id: int, settings: Settings) -> dict[str, Any]:
    await cases.get_case(session, case_id=case_id)
    row = await session.get(Disclosure, case_id)
    made = await service.decision(session, case_id=case_id, settings=settings)
    return {
        "policy": settings.cve_policy,
        "cve": made.cve,
        "reason": made.reason,
        "tags": list(made.tags),
        "cve_id": row.cve_id if row else None,
        "cve_reserved_at": row.cve_reserved_at if row else None,
        "cve_published_at": row.cve_published_at if row else None,
        "no_cve_reason": row.no_cve_reason if row else None,
        "public_from": row.public_from if row else None,
        "disclosed_at": row.disclosed_at if row else None,
        "notified_at": await notify.notification_sent_at(session, case_id=case_id),
    }
