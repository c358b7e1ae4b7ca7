"""JSON API of fixes and their test evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, Text, file_name
from vulnops.db.deps import SessionDep
from vulnops.diskspace import ensure_upload_room
from vulnops.remediation import service
from vulnops.remediation.schemas import EvidenceOut, FixIn, FixOut, OverrideIn

router = APIRouter(prefix="/api", tags=["fixes"])
READ = allowed(Permission.CASES_READ)
MANAGE = allowed(Permission.FIXES_MANAGE)
OVERRIDE = allowed(Permission.FIXES_OVERRIDE)


@router.post("/cases/{case_id:int}/fixes", status_code=status.HTTP_201_CREATED)
async def create_fix(
    case_id: Id, body: FixIn, session: SessionDep, principal: Principal = require(MANAGE)
) -> FixOut:
    """A fix for the case: the version of one service that carries it."""
    fix = await service.create_fix(
        session,
        case_id=case_id,
        service_key=body.service,
        version=body.version,
        artifact=body.artifact,
        notes=body.notes,
        actor=principal.actor,
    )
    await session.commit()
    return (await service.fix_views(session, [fix]))[0]


@router.get("/cases/{case_id:int}/fixes", dependencies=[require(READ)])
async def list_fixes(case_id: Id, session: SessionDep) -> list[FixOut]:
    return await service.fix_views(session, await service.fixes_of_case(session, case_id=case_id))


@router.get("/fixes/{fix_id:int}", dependencies=[require(READ)])
async def get_fix(fix_id: Id, session: SessionDep) -> FixOut:
    return (await service.fix_views(session, [await service.get_fix(session, fix_id=fix_id)]))[0]


@router.post("/fixes/{fix_id:int}/evidence", status_code=status.HTTP_201_CREATED)
async def add_evidence(
    fix_id: Id,
    request: Request,
    session: SessionDep,
    suite: Annotated[Text, Form(description="compatibility or data-integrity")],
    report: Annotated[UploadFile, File(description="JUnit XML")],
    principal: Principal = require(MANAGE),
) -> EvidenceOut:
    """A JUnit XML report of the fix's compatibility or data-integrity suite."""
    ensure_upload_room(request)
    evidence = await service.add_evidence(
        session,
        fix_id=fix_id,
        suite=suite,
        data=await report.read(),
        file_name=file_name(report.filename, "report.xml"),
        actor=principal.actor,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    return EvidenceOut.model_validate(evidence)


@router.post("/fixes/{fix_id:int}/override")
async def override_evidence(
    fix_id: Id,
    body: OverrideIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(OVERRIDE),
) -> FixOut:
    """Let the fix roll out without passing evidence (an emergency; the reason is recorded)."""
    fix = await service.override_evidence(
        session,
        fix_id=fix_id,
        reason=body.reason,
        actor=principal.actor,
        now=datetime.now(UTC),
        settings=request.app.state.settings,
    )
    await session.commit()
    return (await service.fix_views(session, [fix]))[0]
