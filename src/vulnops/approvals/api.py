"""JSON API of approvals: what waits for a second person (each domain's own routes decide)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vulnops.approvals import service
from vulnops.approvals.schemas import ApprovalOut
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, PageNumber
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut

router = APIRouter(prefix="/api/approvals", tags=["approvals"])
READ = allowed(Permission.CASES_READ)


@router.get("")
async def list_approvals(
    session: SessionDep,
    status: service.Status | None = service.Status.PENDING,
    step: service.Step | None = None,
    case_id: Id | None = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[ApprovalOut]:
    """Approval requests (default: those waiting), oldest first."""
    found = await service.list_approvals(
        session,
        viewer=principal,
        status=status,
        step=step,
        case_id=case_id,
        page=page,
        per_page=per_page,
    )
    return PageOut[ApprovalOut].of(found, ApprovalOut.model_validate)
