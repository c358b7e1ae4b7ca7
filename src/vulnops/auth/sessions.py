"""Sign-in sessions kept in the database: the cookie names a session, the row decides whether it
is still one. Signing out, a password change (the user's ``session_epoch``) and disabling the
user end it at once, on every web node; a copied cookie is worth nothing afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import tokens
from vulnops.auth.models import User, UserSession
from vulnops.errors import NotFound

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


async def live(session: AsyncSession, *, user: User, now: datetime) -> list[UserSession]:
    """The user's sessions that still sign them in, most recently used first."""
    rows = await session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.expires_at > now,
            UserSession.epoch == user.session_epoch,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return list(rows)


async def end_one(session: AsyncSession, *, user_id: int, session_id: int, now: datetime) -> None:
    """End one of the user's own sessions; another user's looks like none at all."""
    result = await session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"you have no live session {session_id}")


def is_current(row: UserSession, secret: str | None) -> bool:
    return secret is not None and row.secret_hash == tokens.secret_hash(secret)
