"""The forms of the case page that create fixes, upload their evidence and override it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError
from vulnops.remediation import service
from vulnops.remediation.api import MANAGE, OVERRIDE
from vulnops.ui.templating import flash, redirect

router = APIRouter(include_in_schema=False)


@router.post("/cases/{case_id:int}/fixes")
async def create_fix(
    request: Request,
    case_id: int,
    session: SessionDep,
    service_key: Annotated[str, Form(alias="service", max_length=100)],
    version: Annotated[str, Form(max_length=100)],
    artifact: Annotated[str, Form(max_length=500)] = "",
    notes: Annotated[str, Form(max_length=20000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    try:
        fix = await service.create_fix(
            session,
            case_id=case_id,
            service_key=service_key,
            version=version,
            artifact=artifact,
            notes=notes,
            actor=principal.actor,
        )
    except DomainError as error:
        flash(request, error.detail, "error")
    else:
        await session.commit()
        flash(request, f"Fix {fix.id}: {service_key} {fix.version}. Upload its test results.")
    return redirect(f"/cases/{case_id}#fixes")


@router.post("/fixes/{fix_id:int}/evidence")
async def add_evidence(
    request: Request,
    fix_id: int,
    session: SessionDep,
    suite: Annotated[str, Form(max_length=40)],
    report: Annotated[UploadFile, File()],
    principal: Principal = require(MANAGE),
) -> Response:
    fix = await service.get_fix(session, fix_id=fix_id)
    try:
        evidence = await service.add_evidence(
            session,
            fix_id=fix.id,
            suite=suite,
            data=await report.read(),
            file_name=report.filename or "report.xml",
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )
    except DomainError as error:
        await session.rollback()
        flash(request, error.detail, "error")
    else:
        await session.commit()
        verdict = "passed" if evidence.passed else "did not pass"
        flash(
            request,
            f"{evidence.suite.replace('_', '-')}: {evidence.tests} tests, {verdict}.",
            "success" if evidence.passed else "error",
        )
    return redirect(f"/cases/{fix.case_id}#fixes")


@router.post("/fixes/{fix_id:int}/override")
async def override_evidence(
    request: Request,
    fix_id: int,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)],
    principal: Principal = require(OVERRIDE),
) -> Response:
    fix = await service.get_fix(session, fix_id=fix_id)
    try:
        await service.override_evidence(
            session,
            fix_id=fix.id,
            reason=reason,
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )
    except DomainError as error:
        await session.rollback()
        flash(request, error.detail, "error")
    else:
        await session.commit()
        flash(request, "The fix may roll out without passing evidence; the reason is on record.")
    return redirect(f"/cases/{fix.case_id}#fixes")
