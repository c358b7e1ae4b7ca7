"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from vulnops.auth import service
from vulnops.auth.models import User
from vulnops.db.database import Database

PASSWORD = "correct horse battery staple"

MakeUser = Callable[..., Awaitable[User]]


async def csrf(client: httpx.AsyncClient, page: str = "/login") -> str:
    """The CSRF token a browser would have after loading ``page``."""
    await client.get(page)
    token = client.cookies.get("csrftoken")
    assert token, f"{page} set no csrftoken cookie"
    return token


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    token = await csrf(client)
    return await client.post(
        "/login", data={"email": email, "password": password, "csrftoken": token}
    )


async def api_token(db: Database, user: User) -> str:
    """A bearer token for ``user``."""
    async with db.session() as session:
        _, secret = await service.create_token(
            session,
            user_id=user.id,
            name="test",
            expires_in_days=1,
            actor="test",
            now=datetime.now(UTC),
        )
        await session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
