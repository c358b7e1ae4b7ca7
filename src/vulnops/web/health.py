"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.db import migrate
from vulnops.db.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[require(PUBLIC)])
async def healthz() -> dict[str, str]:
    """The process answers. Says nothing about the database (see ``/readyz``)."""
    return {"status": "ok"}


@router.get("/readyz", dependencies=[require(PUBLIC)], response_model=None)
async def readyz(request: Request, session: SessionDep) -> dict[str, Any] | JSONResponse:
    """Ready to serve: the database answers and its schema is at the code's migration head."""
    head = migrate.head_revision()
    try:
        await session.execute(text("SELECT 1"))
        current = await migrate.current_revision(session)
    except Exception as exc:
        return _not_ready(request, f"database unreachable: {type(exc).__name__}")
    if current != head:
        return _not_ready(
            request, f"migrations not current: database at {current}, code expects {head}"
        )
    return {"status": "ready", "database": "ok", "migration": current}


def _not_ready(request: Request, detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Not ready",
            "status": 503,
            "detail": detail,
            "instance": request.url.path,
        },
        status_code=503,
        media_type="application/problem+json",
    )
