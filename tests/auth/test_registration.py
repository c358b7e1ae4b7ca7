from __future__ import annotations

import httpx
from sqlalchemy import func, select

from helpers import csrf
from vulnops.auth.models import User
from vulnops.db.database import Database


async def _users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_a_researcher_registers_through_the_api(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(
        "/api/register",
        json={"email": "ada@example.com", "password": "long enough secret", "display_name": "ada"},
    )
    assert response.status_code == 201
    assert response.json()["role"] == "researcher"


async def test_registration_cannot_choose_a_role(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(
        "/api/register",
        json={"email": "eve@example.com", "password": "long enough secret", "role": "admin"},
    )
    assert response.status_code == 422
    assert "role" in response.json()["detail"]
    assert await _users(db) == 0


async def test_registration_refuses_bad_input_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    short = await client.post("/api/register", json={"email": "a@example.com", "password": "short"})
    assert short.status_code == 422
    assert "at least 12" in short.json()["detail"]
    email = await client.post(
        "/api/register", json={"email": "not-an-email", "password": "long enough secret"}
    )
    assert email.status_code == 422
    assert "email" in email.json()["detail"]
    missing = await client.post("/api/register", json={"email": "a@example.com"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "password"]
    malformed = await client.post(
        "/api/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["title"] == "Malformed JSON"
    assert await _users(db) == 0


async def test_a_duplicate_registration_is_a_409(client: httpx.AsyncClient, db: Database) -> None:
    body = {"email": "ada@example.com", "password": "long enough secret"}
    assert (await client.post("/api/register", json=body)).status_code == 201
    again = await client.post("/api/register", json={**body, "email": "ADA@example.com"})
    assert again.status_code == 409
    assert await _users(db) == 1


async def test_the_register_page_signs_the_researcher_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    token = await csrf(client, "/register")
    response = await client.post(
        "/register",
        data={
            "email": "grace@example.com",
            "password": "long enough secret",
            "display_name": "Grace",
            "csrftoken": token,
        },
    )
    assert response.status_code == 303
    me = (await client.get("/api/me")).json()
    assert me["email"] == "grace@example.com"
    assert me["role"] == "researcher"


async def test_the_register_page_shows_errors(client: httpx.AsyncClient, db: Database) -> None:
    token = await csrf(client, "/register")
    response = await client.post(
        "/register",
        data={"email": "grace@example.com", "password": "short", "csrftoken": token},
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.text
    assert await _users(db) == 0
