"""Single sign-on for staff through OpenID Connect, with Authlib.

Authlib does the protocol: discovery (``/.well-known/openid-configuration``), the authorization
code flow with PKCE (S256), ``state`` and ``nonce`` kept in the signed session cookie and used
once, and the ID token's checks (signature against the provider's JWKS, issuer, audience,
expiry, nonce). Here: which vulnops role a user's claim (``groups`` by default) maps to
(``VULNOPS_OIDC_ROLE_MAP``, first listed match wins, no match no access), the account made or
found on the first sign-in (by the provider's subject, else by a verified email), and the role
kept in step with the provider at every sign-in. The provider's own second factor stands in for
ours. ``VULNOPS_OIDC_REQUIRED_FOR_STAFF`` makes single sign-on the only way in for staff.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import passwords, second_factor
from vulnops.auth.deps import require
from vulnops.auth.models import User
from vulnops.auth.roles import PUBLIC, STAFF_ROLES, Role
from vulnops.db.deps import SessionDep
from vulnops.db.writes import add_unique
from vulnops.errors import DomainError, Forbidden, Invalid, Unauthenticated
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)


def role_map(settings: Settings) -> dict[str, Role]:
    """The configured map; a role that is unknown or not staff stops the app at start."""
    mapped: dict[str, Role] = {}
    for claim_value, name in settings.oidc_role_map.items():
        if name not in {role.value for role in Role}:
            raise ValueError(f"VULNOPS_OIDC_ROLE_MAP: no role {name!r}")
        if Role(name) not in STAFF_ROLES:
            raise ValueError(f"VULNOPS_OIDC_ROLE_MAP: {name} is not a staff role")
        mapped[claim_value] = Role(name)
    return mapped


def role_from_claims(claims: Mapping[str, Any], *, claim: str, mapping: dict[str, Role]) -> Role:
    """The first role of ``mapping`` that the user's claim names (pure)."""
    raw = claims.get(claim)
    names = {raw} if isinstance(raw, str) else set(raw or [])
    for value, role in mapping.items():
        if value in names:
            return role
    raise Forbidden(
        f"your single sign-on account has no vulnops role: none of its {claim} "
        f"({', '.join(sorted(map(str, names))) or 'none'}) is mapped; ask an administrator"
    )


def client(settings: Settings) -> StarletteOAuth2App | None:
    """The provider's client, or None when single sign-on is not configured."""
    if settings.oidc_issuer is None:
        return None
    role_map(settings)
    oauth = OAuth()
    app = oauth.register(
        "sso",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value()
        if settings.oidc_client_secret
        else None,
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    assert isinstance(app, StarletteOAuth2App)
    return app


def _client(request: Request) -> StarletteOAuth2App:
    found = getattr(request.app.state, "sso", None)
    if found is None:
        raise Invalid("single sign-on is not set up here (VULNOPS_OIDC_ISSUER)")
    assert isinstance(found, StarletteOAuth2App)
    return found


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def account_for(
    session: AsyncSession, *, claims: Mapping[str, Any], role: Role, issuer: str
) -> User:
    """The user the claims name: by the provider's subject, else by a verified email (and
    then linked), else a new account. The role follows the provider's at every sign-in."""
    subject = f"{issuer}|{claims['sub']}"
    email = str(claims.get("email") or "").strip().lower()
    user = await session.scalar(select(User).where(User.sso_subject == subject))
    if user is None and email:
        if not claims.get("email_verified"):
            raise Forbidden("the provider has not verified this account's email address")
        user = await session.scalar(select(User).where(User.email == email).with_for_update())
        if user is not None:
            if user.sso_subject is not None:
                raise Forbidden(
                    "this email address belongs to another single sign-on account; ask an "
                    "administrator"
                )
            if user.awaiting_confirmation:
                # Someone registered the address and never confirmed it: the provider vouches
                # for the address now, and whatever password they chose stops working.
                user.email_confirmed_at, user.confirmation_hash = datetime.now(UTC), None
                user.password_hash = await passwords.hash_password(secrets.token_urlsafe(32))
            user.sso_subject = subject
    if user is None:
        if not email:
            raise Forbidden("the provider sent no email address (ask for the email scope)")
        user = User(
            email=email,
            display_name=str(claims.get("name") or ""),
            role=role.value,
            password_hash=await passwords.hash_password(secrets.token_urlsafe(32)),
            email_confirmed_at=datetime.now(UTC),
            sso_subject=subject,
        )
        await add_unique(session, user, conflict=f"an account with the email {email} exists")
        await audit.record(
            session,
            subject=f"user:{user.id}",
            kind="user.created",
            actor="single sign-on",
            data={"email": email, "role": role.value, "sso": subject},
        )
    if user.disabled:
        raise Forbidden("this account is disabled; ask an administrator")
    if user.role != role.value:
        await audit.record(
            session,
            subject=f"user:{user.id}",
            kind="user.updated",
            actor="single sign-on",
            data={"role": role.value, "before": user.role},
        )
        user.role, user.session_epoch = role.value, user.session_epoch + 1
    await session.flush()
    return user


@router.get("/login/sso", dependencies=[require(PUBLIC)])
async def start(request: Request) -> Response:
    """To the provider, with a fresh state, nonce and PKCE verifier in the session."""
    provider = _client(request)
    redirect_uri = _settings(request).public_url.rstrip("/") + "/login/sso/callback"
    response: Response = await provider.authorize_redirect(request, redirect_uri)
    return response


@router.get("/login/sso/callback", dependencies=[require(PUBLIC)], response_model=None)
async def callback(request: Request, session: SessionDep) -> Response:
    settings = _settings(request)
    provider = _client(request)
    try:
        if "error" in request.query_params:
            said = request.query_params.get("error_description") or request.query_params["error"]
            raise Unauthenticated(f"the provider did not sign you in: {said}")
        try:
            token = await provider.authorize_access_token(request)
        except OAuthError as error:
            raise Unauthenticated(
                f"single sign-on failed ({error.error}): start again from the sign-in page"
            ) from None
        claims = dict(token.get("userinfo") or {})
        if settings.oidc_roles_claim not in claims or "email" not in claims:
            claims = {**dict(await provider.userinfo(token=token)), **claims}
        role = role_from_claims(claims, claim=settings.oidc_roles_claim, mapping=role_map(settings))
        issuer = str(claims.get("iss") or settings.oidc_issuer)
        user = await account_for(session, claims=claims, role=role, issuer=issuer)
    except DomainError as error:
        await session.rollback()
        return render(
            request,
            "login.html",
            {"error": error.detail, "email": "", "next": "/"},
            status_code=error.status,
        )
    await second_factor.finish(request, session, user=user, how="single sign-on")
    await session.commit()
    return Response(status_code=303, headers={"location": "/"})
