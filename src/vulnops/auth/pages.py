"""HTML pages: sign in and out, registration, one's account and tokens, user administration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import registration, second_factor, service, sessions
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, SIGNED_IN, STAFF_ROLES
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError, Invalid, RateLimited
from vulnops.settings import Settings
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
_email = TypeAdapter(EmailStr)


def _safe_next(target: str) -> str:
    """Only same-site paths: never an open redirect."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def valid_email(value: str) -> str:
    try:
        return _email.validate_python(value.strip())
    except ValidationError:
        raise Invalid(f"{value!r} is not a valid email address") from None


@router.get("/login", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def login_form(request: Request, next: Text = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login", dependencies=[require(PUBLIC)], response_model=None)
async def login(
    request: Request,
    session: SessionDep,
    email: Annotated[Text, Form(max_length=320)],
    password: Annotated[Text, Form(max_length=1024)],
    next: Annotated[Text, Form()] = "/",
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        user = await service.authenticate(
            session,
            email=email,
            password=password,
            address=address,
            limits=second_factor.limits(request.app.state.settings),
            now=datetime.now(UTC),
        )
    except DomainError as error:
        await session.commit()  # keep the failure for the rate limit
        response = render(
            request,
            "login.html",
            {"error": error.detail, "email": email, "next": _safe_next(next)},
            status_code=error.status,
        )
        retry_after = error.extra.get("retry_after")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    settings: Settings = request.app.state.settings
    if settings.oidc_required_for_staff and settings.oidc_issuer and user.role_enum in STAFF_ROLES:
        return render(
            request,
            "login.html",
            {
                "error": "staff sign in with single sign-on: use the button below",
                "email": email,
                "next": _safe_next(next),
            },
            status_code=403,
        )
    second_step = await second_factor.begin(request, session, user=user, next_url=_safe_next(next))
    if second_step is not None:
        await session.commit()
        return redirect(second_step)
    await service.signed_in(
        session, user=user, address=address, how="password", now=datetime.now(UTC)
    )
    await second_factor.start_session(request, session, user)
    await session.commit()
    return redirect(_safe_next(next))


@router.post("/logout", dependencies=[require(PUBLIC)])
async def logout(request: Request, session: SessionDep) -> Response:
    """End the session on the server too: a copy of the cookie is worth nothing after this."""
    secret = request.session.get("sid")
    if secret:
        await sessions.end(session, secret=str(secret), now=datetime.now(UTC))
        await session.commit()
    request.session.clear()
    flash(request, "You are signed out.")
    return redirect("/login")


@router.get("/register", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def register_form(request: Request) -> HTMLResponse:
    return render(request, "register.html", {"email": "", "display_name": ""})


@router.post("/register", dependencies=[require(PUBLIC)], response_model=None)
async def register(
    request: Request,
    session: SessionDep,
    email: Annotated[Text, Form(max_length=320)],
    password: Annotated[Text, Form(max_length=1024)],
    display_name: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    try:
        answer = await registration.register_researcher(
            session,
            email=valid_email(email),
            password=password,
            display_name=display_name,
            address=request.client.host if request.client else "unknown",
            settings=request.app.state.settings,
            now=datetime.now(UTC),
        )
    except DomainError as error:
        response = render(
            request,
            "register.html",
            {"error": error.detail, "email": email, "display_name": display_name},
            status_code=error.status,
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    await session.commit()
    return render(request, "register_sent.html", {"answer": answer})


@router.get("/register/confirm", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def confirm_form(
    request: Request, token: Annotated[Text, Query(max_length=100)] = ""
) -> HTMLResponse:
    """A button rather than confirming on GET: a mail scanner that opens links confirms nothing."""
    return render(request, "register_confirm.html", {"token": token, "error": None})


@router.post("/register/confirm", dependencies=[require(PUBLIC)], response_model=None)
async def confirm(
    request: Request, session: SessionDep, token: Annotated[Text, Form(max_length=100)]
) -> Response:
    try:
        user = await registration.confirm(session, secret=token, now=datetime.now(UTC))
    except DomainError as error:
        return render(
            request,
            "register_confirm.html",
            {"token": "", "error": error.detail},
            status_code=error.status,
        )
    second_step = await second_factor.begin(request, session, user=user, next_url="/")
    if second_step is not None:
        await session.commit()
        return redirect(second_step)
    await second_factor.start_session(request, session, user)
    await session.commit()
    flash(request, "Welcome! Your researcher account is ready.", "success")
    return redirect("/")


async def _account_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = await service.get_user(session, user_id=principal.user_id)
    current = request.session.get("sid")
    rows = await sessions.live(session, user=user, now=datetime.now(UTC))
    return render(
        request,
        "account.html",
        {
            "user": user,
            "error": error,
            "sessions": [(row, sessions.is_current(row, current)) for row in rows],
        },
        status_code=status_code,
    )


@router.get("/account", response_class=HTMLResponse)
async def account(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> HTMLResponse:
    return await _account_page(request, session, principal)


@router.post("/account/sessions/{session_id:int}/end", response_model=None)
async def end_session(
    request: Request,
    session_id: Id,
    session: SessionDep,
    principal: Principal = require(SIGNED_IN),
) -> Response:
    await sessions.end_one(
        session, user_id=principal.user_id, session_id=session_id, now=datetime.now(UTC)
    )
    await session.commit()
    flash(request, "That session is signed out.", "success")
    return redirect("/account")


@router.post("/account/password", response_model=None)
async def change_password(
    request: Request,
    session: SessionDep,
    current_password: Annotated[Text, Form(max_length=1024)],
    new_password: Annotated[Text, Form(max_length=1024)],
    principal: Principal = require(SIGNED_IN),
) -> Response:
    try:
        user = await service.change_password(
            session,
            principal=principal,
            current_password=current_password,
            new_password=new_password,
        )
    except DomainError as error:
        return await _account_page(
            request, session, principal, error=error.detail, status_code=error.status
        )
    await second_factor.start_session(request, session, user)
    await session.commit()
    flash(request, "Password changed; other sessions are signed out.", "success")
    return redirect("/account")


async def _tokens_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    new_secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    tokens = await service.list_tokens(session, user_id=principal.user_id)
    return render(
        request,
        "tokens.html",
        {
            "tokens": tokens,
            "new_secret": new_secret,
            "error": error,
            "now": datetime.now(UTC),
            "max_days": request.app.state.settings.token_max_days,
        },
        status_code=status_code,
    )


@router.get("/account/tokens", response_class=HTMLResponse)
async def tokens_page(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> HTMLResponse:
    return await _tokens_page(request, session, principal)


@router.post("/account/tokens", response_class=HTMLResponse)
async def create_token(
    request: Request,
    session: SessionDep,
    name: Annotated[Text, Form(min_length=1, max_length=100)],
    expires_in_days: Annotated[int, Form(ge=1, le=3650)] = 90,
    principal: Principal = require(SIGNED_IN),
) -> HTMLResponse:
    _, secret = await service.create_token(
        session,
        user_id=principal.user_id,
        name=name,
        expires_in_days=expires_in_days,
        max_days=request.app.state.settings.token_max_days,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return await _tokens_page(request, session, principal, new_secret=secret, status_code=201)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request,
    token_id: Id,
    session: SessionDep,
    principal: Principal = require(SIGNED_IN),
) -> Response:
    token = await service.revoke_token(
        session,
        user_id=principal.user_id,
        token_id=token_id,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    flash(request, f"Token {token.name!r} revoked.", "success")
    return redirect("/account/tokens")
