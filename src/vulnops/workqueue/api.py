"""JSON API of the work queue: what the signed-in person's home page shows."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import SIGNED_IN
from vulnops.db.deps import SessionDep
from vulnops.settings import Settings
from vulnops.workqueue.schemas import WorkQueue
from vulnops.workqueue.service import work_queue

router = APIRouter(prefix="/api/queue", tags=["work queue"])


@router.get("")
async def my_queue(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> WorkQueue:
    """What needs you now: the sections of your role's work queue, each with its count (all of
    them) and the first few, most pressing first."""
    settings: Settings = request.app.state.settings
    return await work_queue(session, principal=principal, settings=settings, now=datetime.now(UTC))
