"""The browser's side of passkeys: JSON routes that ``static/js/passkeys.js`` calls around
``navigator.credentials.create`` (adding one on the account) and ``.get`` (the second step of
a sign-in)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ConfigDict, Field

from vulnops.auth import passkeys, second_factor, service
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import PUBLIC, SIGNED_IN
from vulnops.db.bounded import Input
from vulnops.db.deps import SessionDep
from vulnops.settings import Settings

router = APIRouter(include_in_schema=False)


class PasskeyIn(Input):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    credential: dict[str, Any] = Field(description="The credential's toJSON().")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _json(text: str) -> Response:
    return Response(text, media_type="application/json")


@router.post("/account/security/passkeys/options")
async def registration_options(
    request: Request, session: SessionDep, principal: Principal = require(SIGNED_IN)
) -> Response:
    user = await service.get_user(session, user_id=principal.user_id)
    return _json(
        await passkeys.registration_options(
            session, user=user, settings=_settings(request), state=request.session
        )
    )


@router.post("/account/security/passkeys")
async def add_passkey(
    body: PasskeyIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(SIGNED_IN),
) -> JSONResponse:
    """Keep the passkey; a factor change ends the user's other sessions."""
    user = await service.get_user(session, user_id=principal.user_id)
    codes = await passkeys.register(
        session,
        user=user,
        credential=body.credential,
        name=body.name,
        settings=_settings(request),
        state=request.session,
    )
    await second_factor.start_session(request, session, user)
    await session.commit()
    return JSONResponse({"added": True, "recovery_codes": codes})


@router.post("/login/second-factor/passkey/options", dependencies=[require(PUBLIC)])
async def assertion_options(request: Request, session: SessionDep) -> Response:
    user, _ = await second_factor.pending_user(request, session)
    return _json(
        await passkeys.assertion_options(
            session, user=user, settings=_settings(request), state=request.session
        )
    )


@router.post("/login/second-factor/passkey", dependencies=[require(PUBLIC)])
async def sign_in_with_passkey(
    body: PasskeyIn, request: Request, session: SessionDep
) -> JSONResponse:
    user, pending = await second_factor.pending_user(request, session)
    await second_factor.counted(
        request,
        session,
        user,
        lambda: passkeys.verify(
            session,
            user=user,
            credential=body.credential,
            settings=_settings(request),
            state=request.session,
            now=datetime.now(UTC),
        ),
    )
    await second_factor.finish(request, session, user=user, how="passkey")
    await session.commit()
    return JSONResponse({"next": str(pending["next"])})
