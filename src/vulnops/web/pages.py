"""The API documentation page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.ui.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI 5 (it reads OpenAPI 3.1) from the ``fastapi-swagger`` package, started by a
    static script."""
    return templates.TemplateResponse(request, "docs.html")
