"""Each user sees where they are signed in and can sign any of those sessions out."""

from __future__ import annotations

import re

import httpx

from helpers import MakeUser, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app


async def _header(client: httpx.AsyncClient) -> dict[str, str]:
    """The CSRF header a page's script would send with a JSON request."""
    token = re.search(r'name="csrftoken" value="([^"]+)"', (await client.get("/account")).text)
    assert token is not None
    return {"x-csrftoken": token.group(1)}


def _second_browser(db: Database, settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(
        app=create_app(settings, database=db), client=("198.51.100.4", 1)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_user_lists_their_sessions_and_ends_another_one(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    async with _second_browser(db, settings) as laptop:
        await sign_in(laptop, user.email)
        listed = (await client.get("/api/sessions")).json()
        assert len(listed) == 2
        [mine] = [row for row in listed if row["current"]]
        [other] = [row for row in listed if not row["current"]]
        assert other["address"] == "198.51.100.4"
        ended = await client.delete(f"/api/sessions/{other['id']}", headers=await _header(client))
        assert ended.status_code == 204
        assert (await laptop.get("/api/me")).status_code == 401
        assert [row["id"] for row in (await client.get("/api/sessions")).json()] == [mine["id"]]


async def test_another_users_session_cannot_be_ended(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    victim = await make_user(Role.ADMIN)
    async with _second_browser(db, settings) as theirs:
        await sign_in(theirs, victim.email)
        [their_session] = (await theirs.get("/api/sessions")).json()
        await sign_in(client, (await make_user(Role.RESPONDER)).email)
        refused = await client.delete(
            f"/api/sessions/{their_session['id']}", headers=await _header(client)
        )
        assert refused.status_code == 404
        assert (await theirs.get("/api/me")).status_code == 200


async def test_the_account_page_lists_the_sessions_and_signs_one_out(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    user = await make_user(Role.RESEARCHER)
    await sign_in(client, user.email)
    async with _second_browser(db, settings) as laptop:
        await sign_in(laptop, user.email)
        page = (await client.get("/account")).text
        assert "this one" in page
        assert "198.51.100.4" in page
        action = re.search(r'action="(/account/sessions/\d+/end)"', page)
        token = re.search(r'name="csrftoken" value="([^"]+)"', page)
        assert action is not None and token is not None
        done = await client.post(action.group(1), data={"csrftoken": token.group(1)})
        assert done.status_code == 303
        assert (await laptop.get("/api/me")).status_code == 401
        assert (await client.get("/api/me")).status_code == 200
