"""JSON API of disclosure: a case's CVE decision and its CVE record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, Role, allowed
from vulnops.db.deps import SessionDep
from vulnops.disclosure import publishing, service
from vulnops.errors import NotFound
from vulnops.settings import Settings

router = APIRouter(prefix="/api/cases", tags=["disclosure"])
READ = allowed(Permission.CASES_READ)
MANAGE = allowed(Permission.DISCLOSURE_MANAGE)


class NoCveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(
        default=None, max_length=2000, description="None: the policy decides."
    )


class DiscloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_from: datetime | None = Field(
        default=None, description="The end of the embargo (default: now)."
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="An administrator's reason to disclose before the customers were notified.",
    )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/{case_id:int}/cve-record", dependencies=[require(READ)])
async def cve_record(
    case_id: int,
    request: Request,
    session: SessionDep,
    cve_id: Annotated[
        str | None,
        Query(pattern=service.CVE_ID, description="CVE-2026-12345; default: the reserved one"),
    ] = None,
) -> dict[str, Any]:
    """The case as a CVE JSON 5 record, with every field that keeps it from validating."""
    document, problems = await service.cve_record(
        session,
        case_id=case_id,
        cve_id=cve_id,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    return {"valid": not problems, "problems": problems, "record": document}


@router.get("/{case_id:int}/disclosure", dependencies=[require(READ)])
async def disclosure_state(case_id: int, request: Request, session: SessionDep) -> dict[str, Any]:
    """The CVE decision, the CVE id and its publication, the embargo and the disclosure."""
    return await publishing.state(session, case_id=case_id, settings=_settings(request))


@router.put("/{case_id:int}/disclosure/no-cve")
async def mark_no_cve(
    case_id: int,
    body: NoCveIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> dict[str, Any]:
    await publishing.mark_no_cve(
        session, case_id=case_id, reason=body.reason, actor=principal.actor
    )
    await session.commit()
    return await publishing.state(session, case_id=case_id, settings=_settings(request))


CVE_OPERATIONS = {"reserve-cve": publishing.reserve_cve, "publish-cve": publishing.publish_cve}


@router.post("/{case_id:int}/disclosure/{operation}")
async def cve_operation(
    case_id: int,
    operation: str,
    request: Request,
    session: SessionDep,
    dry_run: bool = False,
    principal: Principal = require(MANAGE),
) -> dict[str, Any]:
    """``reserve-cve``: reserve a CVE id in CVE Services; ``publish-cve``: publish the case's
    valid record (after the customers were notified). ``dry_run``: what would be sent."""
    if operation not in CVE_OPERATIONS:
        raise NotFound(f"no operation {operation!r}; use {', '.join(CVE_OPERATIONS)}")
    done = await CVE_OPERATIONS[operation](
        session,
        case_id=case_id,
        actor=principal.actor,
        settings=_settings(request),
        now=datetime.now(UTC),
        dry_run=dry_run,
    )
    await session.commit()
    return done


@router.post("/{case_id:int}/disclosure")
async def disclose(
    case_id: int,
    body: DiscloseIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> dict[str, Any]:
    """Approve the public disclosure (from ``public_from``; before it: embargo)."""
    await publishing.disclose(
        session,
        case_id=case_id,
        actor=principal.actor,
        is_admin=principal.role is Role.ADMIN,
        now=datetime.now(UTC),
        public_from=body.public_from,
        override_reason=body.override_reason,
    )
    await session.commit()
    return await publishing.state(session, case_id=case_id, settings=_settings(request))


@router.get("/{case_id:int}/csaf", dependencies=[require(READ)])
async def csaf_export(
    case_id: int,
    request: Request,
    session: SessionDep,
    category: Literal["csaf_security_advisory", "csaf_vex"] = "csaf_security_advisory",
) -> dict[str, Any]:
    """The disclosed case as a CSAF 2.0 document."""
    return await service.csaf_document(
        session, case_id=case_id, category=category, settings=_settings(request)
    )
