"""Second factors: TOTP apps (``pyotp``) and recovery codes; passkeys are in ``passkeys.py``.

A TOTP code is accepted within one 30-second step of the clock on either side, and once: the
factor keeps the newest step it accepted and refuses that step or an older one (a code seen over
a shoulder or in a log is worth nothing afterwards). The update is conditional, so two requests
with the same code cannot both pass. Recovery codes are ten random codes, stored hashed, each
good once. Adding or removing a factor ends the user's other sessions (the session epoch).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import tokens
from vulnops.auth.models import RecoveryCode, SecondFactor, User
from vulnops.errors import Invalid, NotFound, Unauthenticated

ISSUER = "vulnops"
RECOVERY_CODES = 10
STEP_SECONDS = 30


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code, for a phone's authenticator app."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def check_new_totp(secret: str, code: str, now: datetime) -> None:
    """While setting up: the first code from the app proves it holds the secret."""
    if _matching_step(secret, code, now) is None:
        raise Invalid("that code does not match: check the phone's clock and type the newest code")


async def add_totp(
    session: AsyncSession, *, user: User, secret: str, code: str, name: str, now: datetime
) -> list[str]:
    """Keep a TOTP factor once its first code matches; the new recovery codes (shown once)."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise Invalid("that code does not match: check the phone's clock and type the newest code")
    session.add(
        SecondFactor(
            user_id=user.id,
            kind="totp",
            name=name.strip()[:100] or "Authenticator app",
            totp_secret=secret,
            last_step=step,
        )
    )
    await factor_changed(session, user=user, what="second_factor_added", name="totp")
    left = await recovery_codes_left(session, user_id=user.id)
    return [] if left else await new_recovery_codes(session, user=user)


async def factor_changed(session: AsyncSession, *, user: User, what: str, name: str) -> None:
    """A factor was added or removed: the user's sessions end (the caller starts a new one
    for the browser that made the change)."""
    user.session_epoch += 1
    await session.flush()
    await audit.record(
        session,
        subject=f"user:{user.id}",
        kind=f"user.{what}",
        actor=user.email,
        data={"kind": name},
    )


async def new_recovery_codes(session: AsyncSession, *, user: User) -> list[str]:
    """Ten new codes replacing the old ones (the caller shows them once)."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=tokens.secret_hash(code)) for code in codes
    )
    await session.flush()
    return codes


async def factors_of(session: AsyncSession, *, user_id: int) -> list[SecondFactor]:
    rows = await session.scalars(
        select(SecondFactor).where(SecondFactor.user_id == user_id).order_by(SecondFactor.id)
    )
    return list(rows)


async def has_factor(session: AsyncSession, *, user_id: int) -> bool:
    found = await session.scalar(
        select(SecondFactor.id).where(SecondFactor.user_id == user_id).limit(1)
    )
    return found is not None


async def recovery_codes_left(session: AsyncSession, *, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


async def verify(session: AsyncSession, *, user: User, code: str, now: datetime) -> str:
    """Check a TOTP code or a recovery code for ``user``; what it was (``totp`` or
    ``recovery code``). A wrong code, a replayed one or a used recovery code: 401."""
    code = code.strip()
    if "-" in code:
        used = await session.scalar(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == tokens.secret_hash(code.lower()),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .returning(RecoveryCode.id)
        )
        if used is None:
            raise Unauthenticated("that recovery code is wrong or was used already")
        return "recovery code"
    for factor in await factors_of(session, user_id=user.id):
        if factor.kind != "totp" or factor.totp_secret is None:
            continue
        step = _matching_step(factor.totp_secret, code, now)
        if step is None:
            continue
        accepted = await session.scalar(
            update(SecondFactor)
            .where(
                SecondFactor.id == factor.id,
                func.coalesce(SecondFactor.last_step, -1) < step,
            )
            .values(last_step=step, last_used_at=now)
            .returning(SecondFactor.id)
        )
        if accepted is None:
            raise Unauthenticated("that code was used already: wait for the next one")
        return "totp"
    raise Unauthenticated("wrong code")


async def remove(session: AsyncSession, *, user: User, factor_id: int) -> None:
    result = await session.execute(
        delete(SecondFactor).where(SecondFactor.id == factor_id, SecondFactor.user_id == user.id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"you have no second factor {factor_id}")
    await factor_changed(session, user=user, what="second_factor_removed", name="")
