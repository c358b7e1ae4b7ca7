from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from helpers import MakeUser, api_token, bearer, csrf, sign_in
from vulnops.auth.models import ApiToken
from vulnops.auth.roles import Role
from vulnops.db.database import Database


async def test_a_token_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    created = await client.post(
        "/api/tokens",
        json={"name": "ci", "expires_in_days": 30},
        headers={"x-csrftoken": await csrf(client, "/account/tokens")},
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("vo_")
    assert len(secret) > 40
    listed = (await client.get("/api/tokens")).json()
    assert len(listed) == 1
    assert "token" not in listed[0]
    assert secret.startswith(listed[0]["prefix"])
    async with db.session() as session:
        stored = await session.scalar(select(ApiToken))
    assert stored is not None
    assert secret not in (stored.secret_hash, stored.prefix)

    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with anonymous:
        me = await anonymous.get("/api/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["email"] == user.email


async def test_a_token_page_form_shows_the_new_secret(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESEARCHER)
    await sign_in(client, user.email)
    token = await csrf(client, "/account/tokens")
    page = await client.post(
        "/account/tokens", data={"name": "laptop", "expires_in_days": "7", "csrftoken": token}
    )
    assert page.status_code == 201
    assert "will not be shown again" in page.text
    again = await client.get("/account/tokens")
    assert "will not be shown again" not in again.text
    assert "laptop" in again.text


async def test_a_revoked_token_is_refused_with_that_reason(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    secret = await api_token(db, user)
    token_id = (await client.get("/api/tokens", headers=bearer(secret))).json()[0]["id"]
    revoked = await client.delete(f"/api/tokens/{token_id}", headers=bearer(secret))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    refused = await client.get("/api/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this API token was revoked"
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_is_refused_with_that_reason(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    secret = await api_token(db, user)
    async with db.session() as session:
        await session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    refused = await client.get("/api/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this API token has expired"


async def test_unknown_and_malformed_credentials_are_refused(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/api/me", headers=bearer("vo_made-up"))
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "unknown API token"
    basic = await client.get("/api/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["detail"]
    # A bad token is refused even on a public route: it is never silently ignored.
    assert (await client.get("/healthz", headers=bearer("vo_made-up"))).status_code == 401


async def test_a_disabled_users_tokens_stop_working(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    engineer = await make_user(Role.ENGINEER)
    secret = await api_token(db, engineer)
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200
    disabled = await client.patch(
        f"/api/users/{engineer.id}",
        json={"disabled": True},
        headers=bearer(await api_token(db, admin)),
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"]
    refused = await client.get("/api/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert "disabled" in refused.json()["detail"]


async def test_nobody_can_revoke_someone_elses_token(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    owner = await make_user(Role.ENGINEER)
    other = await make_user(Role.ADMIN)
    secret = await api_token(db, owner)
    token_id = (await client.get("/api/tokens", headers=bearer(secret))).json()[0]["id"]
    response = await client.delete(
        f"/api/tokens/{token_id}", headers=bearer(await api_token(db, other))
    )
    assert response.status_code == 404  # whose token it is must not leak
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200


async def test_a_token_with_an_invalid_expiry_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    response = await client.post(
        "/api/tokens",
        json={"name": "x", "expires_in_days": 0},
        headers=bearer(await api_token(db, user)),
    )
    assert response.status_code == 422
    assert "expires_in_days" in response.json()["detail"]


async def test_no_token_lives_for_ever_nor_past_the_maximum(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    headers = bearer(await api_token(db, user))
    never = await client.post(
        "/api/tokens", json={"name": "x", "expires_in_days": None}, headers=headers
    )
    assert never.status_code == 422
    too_long = await client.post(
        "/api/tokens", json={"name": "x", "expires_in_days": 91}, headers=headers
    )
    assert too_long.status_code == 422
    assert "from 1 to 90 days (VULNOPS_TOKEN_MAX_DAYS)" in too_long.json()["detail"]
    default = await client.post("/api/tokens", json={"name": "ci"}, headers=headers)
    assert default.status_code == 201
    lives = datetime.fromisoformat(default.json()["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89, hours=23) < lives <= timedelta(days=90)
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(ApiToken))
    assert count == 2  # the helper's and the default one: nothing half-created
