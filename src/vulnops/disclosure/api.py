"""JSON API of disclosure: the public text, the CVE decision, the CVE record and its publication,
the disclosure (asked for, then approved by a second person), the CSAF export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field

from vulnops.approvals.deciding import decided
from vulnops.approvals.schemas import DecisionIn
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, Role, allowed
from vulnops.db.bounded import Id, Input, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import disclosing, public_text, publishing, service
from vulnops.disclosure.schemas import (
    DiscloseIn,
    DisclosureOut,
    EndEmbargoIn,
    PublicTextIn,
    PublicTextOut,
    PublishCveIn,
)
from vulnops.settings import Settings

router = APIRouter(prefix="/api/cases", tags=["disclosure"])
READ = allowed(Permission.CASES_READ)
MANAGE = allowed(Permission.DISCLOSURE_MANAGE)
# Responders draft the public text too; communications approve it.
WRITE_TEXT = allowed(Permission.DISCLOSURE_MANAGE, Permission.CASES_MANAGE)


class NoCveIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(
        default=None, max_length=2000, description="None: the policy decides."
    )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _state(request: Request, session: SessionDep, case_id: int) -> DisclosureOut:
    return await disclosing.state(
        session, case_id=case_id, settings=_settings(request), now=datetime.now(UTC)
    )


@router.get("/{case_id:int}/public-text", dependencies=[require(READ)])
async def get_public_text(case_id: Id, session: SessionDep) -> dict[str, PublicTextOut | None]:
    """The approved public text (in use) and the newest version (a draft, if one waits)."""
    approved = await public_text.approved(session, case_id=case_id)
    newest = await public_text.latest(session, case_id=case_id)
    return {
        "approved": PublicTextOut.model_validate(approved) if approved else None,
        "latest": PublicTextOut.model_validate(newest) if newest else None,
    }


@router.put("/{case_id:int}/public-text")
async def save_public_text(
    case_id: Id,
    body: PublicTextIn,
    session: SessionDep,
    principal: Principal = require(WRITE_TEXT),
) -> PublicTextOut:
    """Draft the text the public reads about the case; a second person approves it."""
    draft = await public_text.save_draft(session, case_id=case_id, text=body, actor=principal.actor)
    await session.commit()
    return PublicTextOut.model_validate(draft)


@router.post("/{case_id:int}/public-text/approve")
async def approve_public_text(
    case_id: Id,
    request: Request,
    session: SessionDep,
    body: DecisionIn | None = None,
    principal: Principal = require(MANAGE),
) -> PublicTextOut:
    """Approve the drafted public text (someone who did not write it: four eyes)."""
    found = await decided(
        session,
        public_text.decide,
        case_id=case_id,
        actor=principal.actor,
        approve=True,
        comment=body.comment if body else None,
        settings=_settings(request),
    )
    return PublicTextOut.model_validate(found)


@router.post("/{case_id:int}/public-text/reject")
async def reject_public_text(
    case_id: Id,
    body: DecisionIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> PublicTextOut:
    """Send the draft back with a ``comment``."""
    found = await decided(
        session,
        public_text.decide,
        case_id=case_id,
        actor=principal.actor,
        approve=False,
        comment=body.comment,
        settings=_settings(request),
    )
    return PublicTextOut.model_validate(found)


@router.get("/{case_id:int}/cve-record", dependencies=[require(READ)])
async def cve_record(
    case_id: Id,
    request: Request,
    session: SessionDep,
    cve_id: Annotated[
        Text | None,
        Query(pattern=service.CVE_ID, description="CVE-2026-12345; default: the reserved one"),
    ] = None,
) -> dict[str, Any]:
    """The case as a CVE JSON 5 record, with every field that keeps it from validating."""
    document, problems = await service.cve_record(
        session,
        case_id=case_id,
        cve_id=cve_id,
        settings=_settings(request),
    )
    return {"valid": not problems, "problems": problems, "record": document}


@router.get("/{case_id:int}/disclosure", dependencies=[require(READ)])
async def disclosure_state(case_id: Id, request: Request, session: SessionDep) -> DisclosureOut:
    """The CVE decision, the CVE id and its publication, the embargo and the disclosure."""
    return await _state(request, session, case_id)


@router.put("/{case_id:int}/disclosure/no-cve")
async def mark_no_cve(
    case_id: Id,
    body: NoCveIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> DisclosureOut:
    await publishing.mark_no_cve(
        session, case_id=case_id, reason=body.reason, actor=principal.actor
    )
    await session.commit()
    return await _state(request, session, case_id)


@router.post("/{case_id:int}/disclosure/reserve-cve")
async def reserve_cve(
    case_id: Id,
    request: Request,
    session: SessionDep,
    dry_run: bool = False,
    principal: Principal = require(MANAGE),
) -> dict[str, Any]:
    """Reserve a CVE id in CVE Services. ``dry_run``: what would be sent."""
    done = await publishing.reserve_cve(
        session,
        case_id=case_id,
        actor=principal.actor,
        settings=_settings(request),
        now=datetime.now(UTC),
        dry_run=dry_run,
    )
    await session.commit()
    return done


@router.post("/{case_id:int}/disclosure/publish-cve")
async def publish_cve(
    case_id: Id,
    request: Request,
    session: SessionDep,
    dry_run: bool = False,
    body: PublishCveIn | None = None,
    principal: Principal = require(MANAGE),
) -> dict[str, Any]:
    """Publish the case's CVE record: only for an approved disclosure whose embargo has ended,
    after the customers were notified, from the approved public text, as a valid record (409
    naming each unmet rule). ``when_public``: during the embargo, publish it when it ends.
    ``dry_run``: the request that would be sent and what refuses it now."""
    given = body or PublishCveIn()
    done = await publishing.publish_cve(
        session,
        case_id=case_id,
        actor=principal.actor,
        settings=_settings(request),
        now=datetime.now(UTC),
        is_admin=principal.role is Role.ADMIN,
        dry_run=dry_run,
        when_public=given.when_public,
        override_reason=given.override_reason,
    )
    await session.commit()
    return done


@router.post("/{case_id:int}/disclosure")
async def request_disclosure(
    case_id: Id,
    body: DiscloseIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> DisclosureOut:
    """Ask for the public disclosure (from ``public_from``; before it: embargo); a second
    person approves it."""
    await disclosing.request_disclosure(
        session,
        case_id=case_id,
        actor=principal.actor,
        is_admin=principal.role is Role.ADMIN,
        settings=_settings(request),
        now=datetime.now(UTC),
        public_from=body.public_from,
        cve_choice=body.cve_choice,
        without_cve_reason=body.without_cve_reason,
        override_reason=body.override_reason,
    )
    await session.commit()
    return await _state(request, session, case_id)


@router.post("/{case_id:int}/disclosure/approve")
async def approve_disclosure(
    case_id: Id,
    request: Request,
    session: SessionDep,
    body: DecisionIn | None = None,
    principal: Principal = require(MANAGE),
) -> DisclosureOut:
    """Approve the asked-for disclosure (someone other than who asked: four eyes)."""
    found = await decided(
        session,
        disclosing.decide_disclosure,
        case_id=case_id,
        actor=principal.actor,
        approve=True,
        comment=body.comment if body else None,
        settings=_settings(request),
    )
    return await _state(request, session, found.case_id)


@router.post("/{case_id:int}/disclosure/reject")
async def reject_disclosure(
    case_id: Id,
    body: DecisionIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> DisclosureOut:
    """Refuse the asked-for disclosure, with a ``comment``."""
    found = await decided(
        session,
        disclosing.decide_disclosure,
        case_id=case_id,
        actor=principal.actor,
        approve=False,
        comment=body.comment,
        settings=_settings(request),
    )
    return await _state(request, session, found.case_id)


@router.post("/{case_id:int}/disclosure/end-embargo")
async def end_embargo(
    case_id: Id,
    body: EndEmbargoIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> DisclosureOut:
    """An administrator ends an approved disclosure's embargo now, with a reason (kept)."""
    await disclosing.end_embargo(
        session,
        case_id=case_id,
        actor=principal.actor,
        is_admin=principal.role is Role.ADMIN,
        reason=body.reason,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return await _state(request, session, case_id)


@router.get("/{case_id:int}/csaf", dependencies=[require(READ)])
async def csaf_export(
    case_id: Id,
    request: Request,
    session: SessionDep,
    category: Literal["csaf_security_advisory", "csaf_vex"] = "csaf_security_advisory",
) -> dict[str, Any]:
    """The disclosed case as a CSAF 2.0 document (from its approved public text)."""
    return await service.csaf_document(
        session, case_id=case_id, category=category, settings=_settings(request)
    )
