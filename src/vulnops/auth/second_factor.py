"""The second step of a sign-in, and a user's second factors on their account.

After the right password, a user with a second factor is not signed in yet: the cookie holds a
pending sign-in (the user, their session epoch, five minutes) and the browser is sent to
``/login/second-factor`` for a TOTP code, a recovery code or a passkey. A user whose role needs a
second factor (``VULNOPS_SECOND_FACTOR_ROLES``) and has none sets up an authenticator app there
first. Wrong codes count against the account like wrong passwords; the full sign-in clears the
count.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import factors, passwords, ratelimit, service, sessions
from vulnops.auth.deps import require
from vulnops.auth.models import User
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, SIGNED_IN, Role
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError, Invalid
from vulnops.settings import Settings
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
PENDING = "pending_sign_in"
PENDING_SECONDS = 300
T = TypeVar("T")


def required_roles(settings: Settings) -> frozenset[Role]:
    """The roles that must use a second factor; an unknown name stops the app at start."""
    known = {role.value for role in Role}
    unknown = [name for name in settings.second_factor_roles if name not in known]
    if unknown:
        raise ValueError(f"VULNOPS_SECOND_FACTOR_ROLES: no role {unknown[0]!r}")
    return frozenset(Role(name) for name in settings.second_factor_roles)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def begin(
    request: Request, session: AsyncSession, *, user: User, next_url: str
) -> str | None:
    """After the right password: where the browser goes for the second step, or None when
    there is none (the caller signs the user in)."""
    has = await factors.has_factor(session, user_id=user.id)
    if not has and user.role_enum not in required_roles(_settings(request)):
        return None
    pending: dict[str, Any] = {
        "uid": user.id,
        "epoch": user.session_epoch,
        "until": time.time() + PENDING_SECONDS,
        "next": next_url,
    }
    if not has:
        pending["setup_secret"] = factors.new_totp_secret()
    request.session.clear()
    request.session[PENDING] = pending
    return "/login/second-factor" if has else "/login/second-factor/setup"


async def pending_user(request: Request, session: AsyncSession) -> tuple[User, dict[str, Any]]:
    """The user halfway through signing in, or 400 (none, expired, or the password changed)."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        raise Invalid("this sign-in has expired or was not started: sign in again")
    user = await service.get_user(session, user_id=int(pending["uid"]))
    if user.session_epoch != pending["epoch"] or user.disabled:
        raise Invalid("this sign-in is no longer valid: sign in again")
    return user, pending


async def start_session(request: Request, session: AsyncSession, user: User) -> None:
    """A new server-side session for ``user``, named by the cookie, in place of whatever the
    cookie held (the caller commits)."""
    secret = await sessions.start(
        session,
        user=user,
        address=_address(request),
        user_agent=request.headers.get("user-agent", ""),
        now=_now(),
        max_age_seconds=_settings(request).session_max_age_seconds,
    )
    request.session.clear()
    request.session["sid"] = secret


async def finish(request: Request, session: AsyncSession, *, user: User, how: str) -> None:
    """The whole sign-in passed: recorded, the count cleared, a real session (the caller
    commits)."""
    await service.signed_in(session, user=user, address=_address(request), how=how, now=_now())
    await start_session(request, session, user)


def _now() -> datetime:
    return datetime.now(UTC)


def limits(settings: Settings) -> ratelimit.LoginLimits:
    return ratelimit.LoginLimits(
        per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
        window_seconds=settings.login_failure_window_seconds,
        max_delay_seconds=settings.login_max_delay_seconds,
    )


async def counted(
    request: Request, session: AsyncSession, user: User, answer: Callable[[], Awaitable[T]]
) -> T:
    """Check one answer at the second step (a code, a passkey) under the sign-in limits: a
    wrong one counts like a wrong password. On a refusal the count is committed and the error
    raised again."""
    address = _address(request)
    try:
        await ratelimit.check(
            session,
            email=user.email,
            address=address,
            limits=limits(_settings(request)),
            now=_now(),
        )
        return await answer()
    except DomainError as error:
        if error.status == 401:
            await ratelimit.record_failure(session, email=user.email, address=address)
        await session.commit()
        raise


def _refused(
    request: Request, template: str, context: dict[str, Any], error: DomainError
) -> Response:
    response = render(
        request, template, {**context, "error": error.detail}, status_code=error.status
    )
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login/second-factor", response_class=HTMLResponse, dependencies=[require(PUBLIC)])
async def second_factor_form(request: Request, session: SessionDep) -> Response:
    try:
        user, _ = await pending_user(request, session)
    except DomainError as error:
        flash(request, error.detail, "error")
        return redirect("/login")
    passkeys = [
        f for f in await factors.factors_of(session, user_id=user.id) if f.kind == "passkey"
    ]
    return render(request, "second_factor.html", {"error": None, "passkeys": bool(passkeys)})


@router.post("/login/second-factor", dependencies=[require(PUBLIC)], response_model=None)
async def second_factor(
    request: Request, session: SessionDep, code: Annotated[Text, Form(max_length=40)]
) -> Response:
    try:
        user, pending = await pending_user(request, session)
    except DomainError as error:
        flash(request, error.detail, "error")
        return redirect("/login")
    try:
        how = await counted(
            request,
            session,
            user,
            lambda: factors.verify(session, user=user, code=code, now=_now()),
        )
    except DomainError as error:
        kinds = {factor.kind for factor in await factors.factors_of(session, user_id=user.id)}
        return _refused(request, "second_factor.html", {"passkeys": "passkey" in kinds}, error)
    await finish(request, session, user=user, how=how)
    await session.commit()
    if how == "recovery code":
        left = await factors.recovery_codes_left(session, user_id=user.id)
        flash(request, f"Signed in with a recovery code; {left} left.", "warn")
    return redirect(str(pending["next"]))


@router.get(
    "/login/second-factor/setup", response_class=HTMLResponse, dependencies=[require(PUBLIC)]
)
async def setup_form(request: Request, session: SessionDep) -> Response:
    try:
        user, pending = await pending_user(request, session)
    except DomainError as error:
        flash(request, error.detail, "error")
        return redirect("/login")
    return render(request, "second_factor_setup.html", _setup_context(user, pending, None))


def _setup_context(user: User, pending: dict[str, Any], error: str | None) -> dict[str, Any]:
    secret = str(pending.get("setup_secret", ""))
    uri = factors.provisioning_uri(secret, email=user.email)
    return {"secret": secret, "qr": factors.qr_svg(uri), "uri": uri, "error": error}


@router.post("/login/second-factor/setup", dependencies=[require(PUBLIC)], response_model=None)
async def setup(
    request: Request,
    session: SessionDep,
    code: Annotated[Text, Form(max_length=40)],
    name: Annotated[Text, Form(max_length=100)] = "",
) -> Response:
    try:
        user, pending = await pending_user(request, session)
    except DomainError as error:
        flash(request, error.detail, "error")
        return redirect("/login")
    if "setup_secret" not in pending:
        return redirect("/login/second-factor")
    try:
        codes = await factors.add_totp(
            session,
            user=user,
            secret=str(pending["setup_secret"]),
            code=code,
            name=name,
            now=_now(),
        )
    except DomainError as error:  # refused before anything is written
        return render(
            request,
            "second_factor_setup.html",
            _setup_context(user, pending, error.detail),
            status_code=error.status,
        )
    await finish(request, session, user=user, how="totp (new)")
    await session.commit()
    return render(request, "recovery_codes.html", {"codes": codes, "next": pending["next"]})


async def _security_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = await service.get_user(session, user_id=principal.user_id)
    secret = request.session.get("new_totp_secret") or factors.new_totp_secret()
    request.session["new_totp_secret"] = secret
    uri = factors.provisioning_uri(secret, email=user.email)
    return render(
        request,
        "security.html",
        {
            "factors": await factors.factors_of(session, user_id=user.id),
            "codes_left": await factors.recovery_codes_left(session, user_id=user.id),
            "required": user.role_enum in required_roles(_settings(request)),
            "secret": secret,
            "qr": factors.qr_svg(uri),
            "uri": uri,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/account/security", response_class=HTMLResponse)
async def security(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> HTMLResponse:
    return await _security_page(request, session, principal)


@router.post("/account/security/totp", response_model=None)
async def add_totp(
    request: Request,
    session: SessionDep,
    code: Annotated[Text, Form(max_length=40)],
    name: Annotated[Text, Form(max_length=100)] = "",
    principal: Principal = require(SIGNED_IN),
) -> Response:
    user = await service.get_user(session, user_id=principal.user_id)
    secret = request.session.get("new_totp_secret")
    try:
        if not secret:
            raise Invalid("reload the page: the secret to set up is gone")
        codes = await factors.add_totp(
            session, user=user, secret=str(secret), code=code, name=name, now=_now()
        )
    except DomainError as error:  # refused before anything is written
        return await _security_page(
            request, session, principal, error=error.detail, status_code=error.status
        )
    await start_session(request, session, user)  # the change ended every session
    await session.commit()
    if codes:
        return render(request, "recovery_codes.html", {"codes": codes, "next": "/account/security"})
    flash(request, "Authenticator app added; your other sessions are signed out.", "success")
    return redirect("/account/security")


async def _proven(session: AsyncSession, *, user: User, password: str) -> None:
    """Fresh proof before a change that weakens or outlasts the factors: the password (a
    borrowed session alone cannot remove a factor or mint recovery codes)."""
    if not await passwords.verify_password(user.password_hash, password):
        raise Invalid("the password is wrong: nothing changed")


@router.post("/account/security/recovery-codes", response_class=HTMLResponse)
async def new_recovery_codes(
    request: Request,
    session: SessionDep,
    password: Annotated[Text, Form(max_length=1024)] = "",
    principal: Principal = require(SIGNED_IN),
) -> HTMLResponse:
    user = await service.get_user(session, user_id=principal.user_id)
    try:
        await _proven(session, user=user, password=password)
    except DomainError as error:
        return await _security_page(
            request, session, principal, error=error.detail, status_code=error.status
        )
    codes = await factors.new_recovery_codes(session, user=user)
    await session.commit()
    return render(request, "recovery_codes.html", {"codes": codes, "next": "/account/security"})


@router.post("/account/security/factors/{factor_id:int}/remove", response_model=None)
async def remove_factor(
    request: Request,
    factor_id: Id,
    session: SessionDep,
    password: Annotated[Text, Form(max_length=1024)] = "",
    principal: Principal = require(SIGNED_IN),
) -> Response:
    user = await service.get_user(session, user_id=principal.user_id)
    try:
        await _proven(session, user=user, password=password)
        mine = await factors.factors_of(session, user_id=user.id)
        required = user.role_enum in required_roles(_settings(request))
        if required and [f.id for f in mine] == [factor_id]:
            raise Invalid("your role signs in with a second factor: add another before this one")
        await factors.remove(session, user=user, factor_id=factor_id)
    except DomainError as error:
        return await _security_page(
            request, session, principal, error=error.detail, status_code=error.status
        )
    await start_session(request, session, user)  # the change ended every session
    await session.commit()
    flash(request, "Second factor removed; your other sessions are signed out.", "success")
    return redirect("/account/security")
