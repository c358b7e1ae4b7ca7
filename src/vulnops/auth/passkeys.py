"""Passkeys (WebAuthn) as a second factor, with the ``webauthn`` package.

The relying party is the host of ``VULNOPS_PUBLIC_URL`` and the only origin accepted is that URL's
origin. Each ceremony's challenge lives in the signed session cookie and is used once (taken out
before the answer is checked). An assertion from another origin, for another challenge, with a
bad signature or with a signature counter that did not grow (a cloned authenticator, or a
replayed answer) is refused; a counter of 0 on both sides means the authenticator keeps none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from vulnops.auth import factors
from vulnops.auth.models import SecondFactor, User
from vulnops.errors import Invalid, Unauthenticated
from vulnops.settings import Settings

REGISTERING = "passkey_registration"
SIGNING_IN = "passkey_challenge"


def relying_party(settings: Settings) -> tuple[str, str]:
    """(RP ID, origin) from the public URL."""
    parts = urlsplit(settings.public_url)
    return str(parts.hostname), f"{parts.scheme}://{parts.netloc}"


async def _credentials(session: AsyncSession, *, user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=f.credential_id)
        for f in await factors.factors_of(session, user_id=user.id)
        if f.credential_id is not None
    ]


def _take(state: dict[str, Any], key: str) -> bytes:
    challenge = state.pop(key, None)
    if not isinstance(challenge, str):
        raise Invalid("no passkey ceremony is under way: start again")
    return base64url_to_bytes(challenge)


async def registration_options(
    session: AsyncSession, *, user: User, settings: Settings, state: dict[str, Any]
) -> str:
    """The options for ``navigator.credentials.create`` (JSON); the challenge kept in ``state``."""
    rp_id, _ = relying_party(settings)
    existing = await _credentials(session, user=user)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="vulnops",
        user_name=user.email,
        user_id=str(user.id).encode(),
        user_display_name=user.display_name or user.email,
        exclude_credentials=existing,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    state[REGISTERING] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


async def register(
    session: AsyncSession,
    *,
    user: User,
    credential: dict[str, Any],
    name: str,
    settings: Settings,
    state: dict[str, Any],
) -> list[str]:
    """Keep the new passkey; the new recovery codes when the user had none (shown once)."""
    rp_id, origin = relying_party(settings)
    challenge = _take(state, REGISTERING)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Invalid(f"the passkey was not accepted: {error}") from None
    session.add(
        SecondFactor(
            user_id=user.id,
            kind="passkey",
            name=name.strip()[:100] or "Passkey",
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
        )
    )
    await factors.factor_changed(session, user=user, what="second_factor_added", name="passkey")
    left = await factors.recovery_codes_left(session, user_id=user.id)
    return [] if left else await factors.new_recovery_codes(session, user=user)


async def assertion_options(
    session: AsyncSession, *, user: User, settings: Settings, state: dict[str, Any]
) -> str:
    """The options for ``navigator.credentials.get`` with the user's passkeys (JSON)."""
    rp_id, _ = relying_party(settings)
    allowed = await _credentials(session, user=user)
    if not allowed:
        raise Invalid("this account has no passkey: use a code")
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    state[SIGNING_IN] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


async def verify(
    session: AsyncSession,
    *,
    user: User,
    credential: dict[str, Any],
    settings: Settings,
    state: dict[str, Any],
    now: datetime,
) -> None:
    """Check an assertion of one of the user's passkeys; 401 with the reason when it fails."""
    rp_id, origin = relying_party(settings)
    challenge = _take(state, SIGNING_IN)
    try:
        raw_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError):
        raise Unauthenticated("the passkey's answer is malformed") from None
    factor = await session.scalar(
        select(SecondFactor).where(
            SecondFactor.user_id == user.id, SecondFactor.credential_id == raw_id
        )
    )
    if factor is None or factor.public_key is None:
        raise Unauthenticated("that passkey is not one of this account's")
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=factor.public_key,
            credential_current_sign_count=factor.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Unauthenticated(f"the passkey's answer was refused: {error}") from None
    moved = await session.scalar(
        update(SecondFactor)
        .where(SecondFactor.id == factor.id, SecondFactor.sign_count == factor.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=now)
        .returning(SecondFactor.id)
    )
    if moved is None:  # the same answer twice at once: only the first counts
        raise Unauthenticated("that passkey answer was used already")
