"""Errors as RFC 9457 problem details for the API, and as friendly pages for people."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vulnops.errors import DomainError, RateLimited, Unauthenticated
from vulnops.ui.templating import redirect, render

log = logging.getLogger(__name__)

PROBLEM_TYPE = "about:blank"
JSON_PATHS = ("/api/", "/healthz", "/readyz", "/openapi.json")


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(JSON_PATHS):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    if not wants_json(request):
        return render(
            request,
            "error.html",
            {"status": status, "title": title, "detail": detail},
            status_code=status,
        )
    body = {
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        if not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(f"/login?next={quote(target)}")
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return problem(request, exc.status, exc.title, exc.detail, headers=headers, **exc.extra)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    json_errors = [error for error in errors if error["type"] == "json_invalid"]
    if json_errors:
        ctx = exc.errors()[0].get("ctx", {})
        return problem(
            request,
            400,
            "Malformed JSON",
            f"the request body is not valid JSON: {ctx.get('error', 'parse error')}",
        )
    detail = "; ".join(f"{_where(error['loc'])}: {error['msg']}" for error in errors)
    return problem(request, 422, "Invalid input", detail, errors=errors)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    detail = str(exc.detail) if exc.detail else titles.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}"
    return problem(
        request,
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        detail,
        headers=dict(exc.headers or {}),
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "Internal error", "something went wrong on our side")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
