from __future__ import annotations

import httpx
from sqlalchemy import func, select

from helpers import PASSWORD, MakeUser, api_token, bearer, csrf, sign_in
from vulnops.audit.models import AuditEvent
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


async def _counts(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return int(users or 0), int(events or 0)


async def test_an_admin_creates_a_user_who_can_sign_in(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.post(
        "/api/users",
        json={"email": "New.Person@Example.com", "password": PASSWORD, "role": "engineer"},
        headers=bearer(await api_token(db, admin)),
    )
    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.com"
    assert (await sign_in(client, "NEW.person@example.com")).status_code == 303
    async with db.session() as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.kind == "user.created"))
    assert event is not None
    assert event.actor == admin.email
    assert event.data["role"] == "engineer"


async def test_a_duplicate_email_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    headers = bearer(await api_token(db, admin))
    before = await _counts(db)
    response = await client.post(
        "/api/users",
        json={"email": admin.email.upper(), "password": PASSWORD, "role": "engineer"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "already exists" in response.json()["detail"]
    assert await _counts(db) == before


async def test_a_customer_needs_a_known_tenant(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    headers = bearer(await api_token(db, admin))
    before = await _counts(db)
    missing = await client.post(
        "/api/users",
        json={"email": "c@example.com", "password": PASSWORD, "role": "customer"},
        headers=headers,
    )
    assert missing.status_code == 422
    assert "tenant" in missing.json()["detail"]
    unknown = await client.post(
        "/api/users",
        json={
            "email": "c@example.com",
            "password": PASSWORD,
            "role": "customer",
            "tenant_key": "no-such-tenant",
        },
        headers=headers,
    )
    assert unknown.status_code == 404
    assert "no-such-tenant" in unknown.json()["detail"]
    staff_with_tenant = await client.post(
        "/api/users",
        json={
            "email": "s@example.com",
            "password": PASSWORD,
            "role": "engineer",
            "tenant_key": "x",
        },
        headers=headers,
    )
    assert staff_with_tenant.status_code == 422
    assert await _counts(db) == before


async def test_a_customer_is_bound_to_a_tenant(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    customer = await make_user(Role.CUSTOMER, tenant_key="contoso")
    me = (await client.get("/api/me", headers=bearer(await api_token(db, customer)))).json()
    assert me["role"] == "customer"
    assert me["tenant_id"] == customer.tenant_id
    assert me["permissions"] == ["tenant:own"]


async def test_an_admin_cannot_disable_themself(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.patch(
        f"/api/users/{admin.id}",
        json={"disabled": True},
        headers=bearer(await api_token(db, admin)),
    )
    assert response.status_code == 403
    assert "yourself" in response.json()["detail"]


async def test_a_role_change_is_recorded_and_takes_effect(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    engineer = await make_user(Role.ENGINEER)
    response = await client.patch(
        f"/api/users/{engineer.id}",
        json={"role": "responder"},
        headers=bearer(await api_token(db, admin)),
    )
    assert response.status_code == 200
    assert response.json()["role"] == "responder"
    events = (
        await client.get(
            "/api/audit/events",
            params={"subject": f"user:{engineer.id}"},
            headers=bearer(await api_token(db, admin)),
        )
    ).json()
    assert events["items"][0]["kind"] == "user.updated"
    assert events["items"][0]["data"]["role"] == "responder"


async def test_the_user_list_is_paged_filtered_and_searched(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    for number in range(5):
        await make_user(Role.RESEARCHER, email=f"finder{number}@example.com")
    headers = bearer(await api_token(db, admin))
    page = (
        await client.get(
            "/api/users", params={"role": "researcher", "per_page": 2}, headers=headers
        )
    ).json()
    assert page["total"] == 5
    assert page["pages"] == 3
    assert len(page["items"]) == 2
    found = (await client.get("/api/users", params={"q": "FINDER3"}, headers=headers)).json()
    assert [user["email"] for user in found["items"]] == ["finder3@example.com"]
    too_many = await client.get("/api/users", params={"per_page": 5000}, headers=headers)
    assert too_many.status_code == 422


async def test_the_users_page_adds_and_disables_users(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    token = await csrf(client, "/admin/users")
    added = await client.post(
        "/admin/users",
        data={
            "email": "pat@example.com",
            "password": PASSWORD,
            "role": "release_manager",
            "csrftoken": token,
        },
    )
    assert added.status_code == 303
    page = await client.get("/admin/users")
    assert "pat@example.com" in page.text
    assert "added as release_manager" in page.text
    async with db.session() as session:
        pat = await session.scalar(select(User).where(User.email == "pat@example.com"))
    assert pat is not None
    disabled = await client.post(f"/admin/users/{pat.id}/disable", data={"csrftoken": token})
    assert disabled.status_code == 303
    assert (
        await sign_in(
            httpx.AsyncClient(transport=client._transport, base_url="http://t"), "pat@example.com"
        )
    ).status_code == 403


async def test_the_users_page_shows_a_bad_email_as_an_error(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    before = await _counts(db)
    response = await client.post(
        "/admin/users",
        data={
            "email": "not-an-email",
            "password": PASSWORD,
            "role": "engineer",
            "csrftoken": await csrf(client, "/admin/users"),
        },
    )
    assert response.status_code == 422
    assert "not a valid email address" in response.text
    assert await _counts(db) == before


async def test_the_administrators_page_warns_of_a_public_url_that_is_not_https(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    """Found: nothing warned that the public URL was http (security.txt then fails RFC 9116)."""
    await sign_in(client, (await make_user(Role.ADMIN)).email)
    assert settings.public_url.startswith("http://")
    page = await client.get("/admin/users")
    assert f"VULNOPS_PUBLIC_URL is {settings.public_url}, not https" in page.text
    https = settings.model_copy(update={"public_url": "https://cloud.example"})
    assert https.deployment_warnings() == []
