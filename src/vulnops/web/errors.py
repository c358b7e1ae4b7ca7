"""Errors as RFC 9457 problem details for the API, and as friendly pages for people."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vulnops.auth import service as users
from vulnops.auth import sessions
from vulnops.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    RateLimited,
    TooLarge,
    Unauthenticated,
)
from vulnops.ui.forms import problem_field, problem_text
from vulnops.ui.templating import flash, redirect, render

log = logging.getLogger(__name__)

PROBLEM_TYPE = "about:blank"
JSON_PATHS = ("/api/", "/healthz", "/readyz", "/openapi.json")


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(JSON_PATHS):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _known_principal(request: Request) -> None:
    """An error page shows a signed-in person their own navigation, even where no route ran
    (a 404): the principal is looked up from the session when no route did."""
    if hasattr(request.state, "principal") or "session" not in request.scope:
        return
    request.state.principal = None
    if "sid" not in request.session:
        return
    database = request.app.state.db
    async with database.session() as session:
        user, _ = await sessions.user_of(
            session, secret=str(request.session["sid"]), now=datetime.now(UTC), touch=False
        )
    request.state.principal = users.principal_of(user, via="session") if user else None


async def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    if not wants_json(request):
        await _known_principal(request)
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


# A form a person sent that says something wrong, or that a rule of the domain refuses (four
# eyes): back to their page, the error beside the field. A route's own permission rule stays
# a 403 page.
REFUSED_FORM = (Invalid, Conflict, TooLarge, Forbidden)
FIELD = re.compile(r"^([a-z_][a-z0-9_]*): ")


def _refused_form(request: Request) -> bool:
    return request.method == "POST" and not wants_json(request)


def back_to_form(request: Request, message: str, field: str | None) -> Response:
    """The page the form was on (its Referer, when it is ours), with the error flashed for that
    form and field; static/js/forms.js gives the form back what was typed."""
    referer = urlsplit(request.headers.get("referer", ""))
    ours = referer.netloc == request.url.netloc and referer.path.startswith("/")
    target = (referer.path + (f"?{referer.query}" if referer.query else "")) if ours else "/"
    found = FIELD.match(message)
    flash(request, message, "error", form=request.url.path, field=field or (found and found[1]))
    return redirect(target)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    by_route = exc.extra.get("denied_by") == "route"
    if isinstance(exc, REFUSED_FORM) and not by_route and _refused_form(request):
        return back_to_form(request, problem_text(exc), problem_field(exc))
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        # A person is sent to sign in; a client that sent a token it must fix is told so (the
        # sign-in page would refuse the same token again, and again).
        if not wants_json(request) and "authorization" not in request.headers:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(f"/login?next={quote(target)}")
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return await problem(request, exc.status, exc.title, exc.detail, headers=headers, **exc.extra)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        # A validator's own words, without pydantic's "Value error, " before them.
        {
            "loc": list(error["loc"]),
            "msg": error["msg"].removeprefix("Value error, "),
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    json_errors = [error for error in errors if error["type"] == "json_invalid"]
    if json_errors:
        ctx = exc.errors()[0].get("ctx", {})
        return await problem(
            request,
            400,
            "Malformed JSON",
            f"the request body is not valid JSON: {ctx.get('error', 'parse error')}",
        )
    if _refused_form(request):
        first = str(errors[0]["loc"][-1]) if errors and errors[0]["loc"] else None
        message = "; ".join(f"{error['loc'][-1]}: {error['msg']}" for error in errors)
        return back_to_form(request, message, first)
    detail = "; ".join(f"{_where(error['loc'])}: {error['msg']}" for error in errors)
    return await problem(request, 422, "Invalid input", detail, errors=errors)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    detail = str(exc.detail) if exc.detail else titles.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}"
    if exc.status_code == 400 and "maximum size" in detail and _refused_form(request):
        return back_to_form(
            request,
            "a field of the form is larger than the 1 MB a form field may hold: shorten it "
            "(each field says how much it takes)",
            None,
        )
    return await problem(
        request,
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        detail,
        headers=dict(exc.headers or {}),
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return await problem(request, 500, "Internal error", "something went wrong on our side")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
