"""What the transport tells the app, and only whom it should: HSTS when the installation is
served over HTTPS, and X-Forwarded-For believed only from the proxies it names (through a real
uvicorn server with the options `vulnops serve` uses, on the loopback address)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from helpers import csrf, serving_app
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app


@asynccontextmanager
async def _client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the loopback address, as a local process or a proxy on the same host."""
    transport = httpx.ASGITransport(
        app=create_app(settings, database=db), client=("127.0.0.1", 5000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _wrong_passwords(client: httpx.AsyncClient, count: int, *, rotate: bool) -> list[int]:
    statuses = []
    for number in range(count):
        token = await csrf(client)
        headers = {"X-Forwarded-For": f"198.51.100.{number + 1}"} if rotate else {}
        response = await client.post(
            "/login",
            data={"email": f"guess{number}@example.com", "password": "wrong!", "csrftoken": token},
            headers=headers,
        )
        statuses.append(response.status_code)
    return statuses


async def test_hsts_only_when_cookies_are_secure(settings: Settings, db: Database) -> None:
    async with _client(settings, db) as plain:
        assert "strict-transport-security" not in (await plain.get("/healthz")).headers
    secure = settings.model_copy(update={"cookie_secure": True})
    async with _client(secure, db) as https:
        sent = (await https.get("/healthz")).headers["strict-transport-security"]
    assert sent == "max-age=31536000; includeSubDomains"


async def test_a_local_client_cannot_rotate_x_forwarded_for_to_escape_the_address_limit(
    settings: Settings, db: Database
) -> None:
    with serving_app(settings) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            statuses = await _wrong_passwords(client, 7, rotate=True)
    # The test settings allow 6 failures per address: the 7th is refused whatever it claims.
    assert statuses == [401] * 6 + [429]


async def test_a_trusted_proxy_names_the_client(settings: Settings, db: Database) -> None:
    behind = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    with serving_app(behind) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            statuses = await _wrong_passwords(client, 7, rotate=True)
    assert statuses == [401] * 7  # each named client has failed once
