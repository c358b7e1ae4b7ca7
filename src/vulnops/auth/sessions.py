"""Sign-in sessions kept in the database: the cookie names a session, the row decides whether it
is still one. Signing out, a password change (the user's ``session_epoch``) and disabling the
user end it at once, on every web node; a copied cookie is worth nothing afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import tokens
from vulnops.auth.models import User, UserSession

SEEN_INTERVAL = timedelta(minutes=5)  # how often a session's last use is written


async def start(
    session: AsyncSession,
    *,
    user: User,
    address: str,
    user_agent: str,
    now: datetime,
    max_age_seconds: int,
) -> str:
    """A new session for ``user``; the secret for the cookie (only its hash is stored)."""
    secret = tokens.new_secret()
    session.add(
        UserSession(
            user_id=user.id,
            secret_hash=tokens.secret_hash(secret),
            epoch=user.session_epoch,
            address=address[:100],
            user_agent=user_agent[:300],
            last_seen_at=now,
            expires_at=now + timedelta(seconds=max_age_seconds),
        )
    )
    await session.flush()
    return secret


async def user_of(
    session: AsyncSession, *, secret: str, now: datetime, touch: bool = True
) -> tuple[User | None, bool]:
    """The user of a live session (None: not ended, not expired, begun since the user's last
    password change, the user not disabled), and whether its last use was written (``touch``;
    then the caller commits)."""
    row = (
        await session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.secret_hash == tokens.secret_hash(secret))
        )
    ).one_or_none()
    if row is None:
        return None, False
    found, user = row
    if (
        found.ended_at is not None
        or found.expires_at <= now
        or found.epoch != user.session_epoch
        or user.disabled
    ):
        return None, False
    touched = touch and now - found.last_seen_at > SEEN_INTERVAL
    if touched:
        await session.execute(
            update(UserSession).where(UserSession.id == found.id).values(last_seen_at=now)
        )
    return user, touched


async def end(session: AsyncSession, *, secret: str, now: datetime) -> None:
    """End the session the cookie names (nothing if it is unknown or over already)."""
    await session.execute(
        update(UserSession)
        .where(
            UserSession.secret_hash == tokens.secret_hash(secret), UserSession.ended_at.is_(None)
        )
        .values(ended_at=now)
    )
