"""The disclosure forms of the case page: no CVE, reserve and publish the CVE, disclose."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Role
from vulnops.db.deps import SessionDep
from vulnops.disclosure import publishing
from vulnops.disclosure.api import CVE_OPERATIONS, MANAGE
from vulnops.errors import DomainError, Invalid, NotFound
from vulnops.settings import Settings
from vulnops.ui.templating import flash, redirect

router = APIRouter(include_in_schema=False)


def _back(case_id: int) -> Response:
    return redirect(f"/cases/{case_id}#disclosure")


async def _done(request: Request, session: SessionDep, message: str) -> None:
    await session.commit()
    flash(request, message, "success")


@router.post("/cases/{case_id:int}/disclosure/no-cve")
async def mark_no_cve(
    request: Request,
    case_id: int,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    try:
        await publishing.mark_no_cve(session, case_id=case_id, reason=reason, actor=principal.actor)
    except DomainError as problem:
        flash(request, problem.detail, "error")
    else:
        await _done(
            request, session, "Marked as no CVE." if reason.strip() else "The policy decides."
        )
    return _back(case_id)


@router.post("/cases/{case_id:int}/disclosure/disclose")
async def disclose(
    request: Request,
    case_id: int,
    session: SessionDep,
    public_from: Annotated[str, Form(max_length=40)] = "",
    override_reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    try:
        try:
            when = datetime.fromisoformat(public_from) if public_from.strip() else None
        except ValueError:
            raise Invalid(f"public_from: {public_from!r} is not a date and time") from None
        await publishing.disclose(
            session,
            case_id=case_id,
            actor=principal.actor,
            is_admin=principal.role is Role.ADMIN,
            now=datetime.now(UTC),
            public_from=when.replace(tzinfo=when.tzinfo or UTC) if when else None,
            override_reason=override_reason or None,
        )
    except DomainError as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
    else:
        await _done(request, session, "Disclosure approved.")
    return _back(case_id)


@router.post("/cases/{case_id:int}/disclosure/{operation}")
async def cve_operation(
    request: Request,
    case_id: int,
    operation: str,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> Response:
    if operation not in CVE_OPERATIONS:
        raise NotFound(f"no operation {operation!r}; use {', '.join(CVE_OPERATIONS)}")
    settings: Settings = request.app.state.settings
    try:
        done = await CVE_OPERATIONS[operation](
            session,
            case_id=case_id,
            actor=principal.actor,
            settings=settings,
            now=datetime.now(UTC),
        )
    except DomainError as problem:
        await session.rollback()
        errors = problem.extra.get("errors") or []
        details = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        flash(request, f"{problem.detail}{': ' + details if details else ''}", "error")
    else:
        await _done(request, session, f"{done['cve_id']}: done ({operation.replace('-', ' ')}).")
    return _back(case_id)
