"""JSON API of the event log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vulnops.audit import service
from vulnops.audit.schemas import EventOut, VerifyResult
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.web import need_to_know

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/events")
async def list_events(
    session: SessionDep,
    subject: Text | None = Query(default=None, max_length=200),
    kind: Text | None = Query(default=None, max_length=100),
    actor: Text | None = Query(default=None, max_length=320),
    page: Annotated[PageNumber, Query()] = 1,
    per_page: int = Query(default=50, ge=1, le=MAX_PER_PAGE),
    principal: Principal = require(allowed(Permission.AUDIT_READ)),
) -> PageOut[EventOut]:
    events = await service.list_events(
        session,
        subject=subject,
        kind=kind,
        actor=actor,
        exclude_subjects=need_to_know.hidden_subjects(principal),
        page=page,
        per_page=per_page,
    )
    return PageOut[EventOut].of(events, EventOut.model_validate)


@router.get("/verify", dependencies=[require(allowed(Permission.AUDIT_VERIFY))])
async def verify(session: SessionDep) -> VerifyResult:
    """Recompute every hash and link; report the first changed, inserted or deleted event."""
    return await service.verify(session)
