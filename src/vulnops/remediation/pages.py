"""The forms of the case page that create fixes, upload their evidence and override it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, Text, file_name
from vulnops.db.deps import SessionDep
from vulnops.diskspace import ensure_upload_room
from vulnops.remediation import service
from vulnops.remediation.api import MANAGE, OVERRIDE
from vulnops.remediation.models import Evidence, Fix
from vulnops.ui.forms import form_action

router = APIRouter(include_in_schema=False)


@router.post("/cases/{case_id:int}/fixes")
async def create_fix(
    request: Request,
    case_id: Id,
    session: SessionDep,
    service_key: Annotated[Text, Form(alias="service", max_length=100)],
    version: Annotated[Text, Form(max_length=100)],
    artifact: Annotated[Text, Form(max_length=500)] = "",
    notes: Annotated[Text, Form(max_length=20000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:

    async def work() -> Fix:
        return await service.create_fix(
            session,
            case_id=case_id,
            service_key=service_key,
            version=version,
            artifact=artifact,
            notes=notes,
            actor=principal.actor,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda fix: f"Fix {fix.id}: {service_key} {fix.version}. Upload its test results.",
        back=f"/cases/{case_id}/fixes",
    )


@router.post("/fixes/{fix_id:int}/evidence")
async def add_evidence(
    request: Request,
    fix_id: Id,
    session: SessionDep,
    suite: Annotated[Text, Form(max_length=40)],
    report: Annotated[UploadFile, File()],
    principal: Principal = require(MANAGE),
) -> Response:
    fix = await service.get_fix(session, fix_id=fix_id)
    ensure_upload_room(request)
    data = await report.read()

    async def work() -> Evidence:
        return await service.add_evidence(
            session,
            fix_id=fix.id,
            suite=suite,
            data=data,
            file_name=file_name(report.filename, "report.xml"),
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )

    def done(evidence: Evidence) -> str:
        verdict = "passed" if evidence.passed else "did not pass: this fix cannot roll out yet"
        return f"{evidence.suite.replace('_', '-')}: {evidence.tests} tests, {verdict}."

    return await form_action(request, session, work, done=done, back=f"/cases/{fix.case_id}/fixes")


@router.post("/fixes/{fix_id:int}/override")
async def override_evidence(
    request: Request,
    fix_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)],
    principal: Principal = require(OVERRIDE),
) -> Response:
    fix = await service.get_fix(session, fix_id=fix_id)

    async def work() -> Fix:
        return await service.override_evidence(
            session,
            fix_id=fix.id,
            reason=reason,
            actor=principal.actor,
            now=datetime.now(UTC),
            settings=request.app.state.settings,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "The fix may roll out without passing evidence; the reason is on record.",
        back=f"/cases/{fix.case_id}/fixes",
    )
