"""JSON API: registration, the caller's own account and tokens, and user administration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from vulnops.auth import registration, service, sessions
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, ROLE_PERMISSIONS, SIGNED_IN, Permission, Role, allowed
from vulnops.auth.schemas import (
    Accepted,
    MeOut,
    Registration,
    SessionOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut

router = APIRouter(prefix="/api", tags=["accounts"])
MANAGE_USERS = allowed(Permission.USERS_MANAGE)


@router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[require(PUBLIC)],
    summary="Ask to register as a researcher",
)
async def register(body: Registration, request: Request, session: SessionDep) -> Accepted:
    """The same answer for a new and a taken address: the account is usable once its owner
    follows the link emailed to it (the owner of a taken address is told instead)."""
    answer = await registration.register_researcher(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        address=request.client.host if request.client else "unknown",
        settings=request.app.state.settings,
        now=datetime.now(UTC),
    )
    await session.commit()
    return Accepted(detail=answer)


@router.get("/me")
async def me(principal: Principal = require(SIGNED_IN)) -> MeOut:
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        display_name=principal.display_name,
        role=principal.role,
        tenant_id=principal.tenant_id,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )


@router.get("/tokens")
async def list_tokens(
    session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> list[TokenOut]:
    tokens = await service.list_tokens(session, user_id=principal.user_id)
    return [TokenOut.model_validate(token) for token in tokens]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    body: TokenCreate,
    request: Request,
    session: SessionDep,
    principal: Principal = require(SIGNED_IN),
) -> TokenCreated:
    token, secret = await service.create_token(
        session,
        user_id=principal.user_id,
        name=body.name,
        expires_in_days=body.expires_in_days,
        max_days=request.app.state.settings.token_max_days,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return TokenCreated(token=secret, **TokenOut.model_validate(token).model_dump())


@router.delete("/tokens/{token_id}")
async def revoke_token(
    token_id: Id, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> TokenOut:
    token = await service.revoke_token(
        session,
        user_id=principal.user_id,
        token_id=token_id,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    await session.commit()
    return TokenOut.model_validate(token)


@router.get("/sessions")
async def list_sessions(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> list[SessionOut]:
    """Where you are signed in (browsers; API tokens are under ``/api/tokens``)."""
    user = await service.get_user(session, user_id=principal.user_id)
    current = request.session.get("sid")
    return [
        SessionOut.model_validate(row).model_copy(
            update={"current": sessions.is_current(row, current)}
        )
        for row in await sessions.live(session, user=user, now=datetime.now(UTC))
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(
    session_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    session: SessionDep,
    principal: Principal = require(SIGNED_IN),
) -> None:
    """Sign one of your sessions out (a lost laptop's, say); it answers 401 from then on."""
    await sessions.end_one(
        session, user_id=principal.user_id, session_id=session_id, now=datetime.now(UTC)
    )
    await session.commit()


@router.get("/users", dependencies=[require(MANAGE_USERS)])
async def list_users(
    session: SessionDep,
    role: Role | None = None,
    q: Text | None = Query(default=None, max_length=200),
    page: Annotated[PageNumber, Query()] = 1,
    per_page: int = Query(default=50, ge=1, le=MAX_PER_PAGE),
) -> PageOut[UserOut]:
    users = await service.list_users(session, role=role, search=q, page=page, per_page=per_page)
    return PageOut[UserOut].of(users, UserOut.model_validate)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, session: SessionDep, principal: Principal = require(MANAGE_USERS)
) -> UserOut:
    user = await service.create_user(
        session,
        email=body.email,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        tenant_key=body.tenant_key,
        actor=principal.actor,
    )
    await session.commit()
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", dependencies=[require(MANAGE_USERS)])
async def get_user(user_id: Id, session: SessionDep) -> UserOut:
    return UserOut.model_validate(await service.get_user(session, user_id=user_id))


@router.patch("/users/{user_id}")
async def update_user(
    user_id: Id,
    body: UserPatch,
    session: SessionDep,
    principal: Principal = require(MANAGE_USERS),
) -> UserOut:
    user = await service.update_user(
        session,
        user_id=user_id,
        actor=principal,
        role=body.role,
        tenant_key=body.tenant_key,
        display_name=body.display_name,
        disabled=body.disabled,
    )
    await session.commit()
    return UserOut.model_validate(user)
