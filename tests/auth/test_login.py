from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from helpers import PASSWORD, MakeUser, csrf, sign_in
from vulnops.audit.models import AuditEvent
from vulnops.auth import ratelimit, service
from vulnops.auth.models import LoginFailure, User, UserSession
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import RateLimited
from vulnops.settings import Settings


async def _failures(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


async def test_signing_in_starts_a_session_with_the_users_role(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESPONDER)
    response = await sign_in(client, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["role"] == "responder"
    assert "audit:read" in me.json()["permissions"]


async def test_signing_in_is_recorded_in_the_event_log(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    async with db.session() as session:
        kinds = list(
            await session.scalars(
                select(AuditEvent.kind).where(AuditEvent.subject == f"user:{user.id}")
            )
        )
    assert kinds == ["user.signed_in"]


async def test_a_wrong_password_is_a_401_and_writes_only_the_failure(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    response = await sign_in(client, user.email, "not the password at all")
    assert response.status_code == 401
    assert "wrong email or password" in response.text
    assert (await client.get("/api/me")).status_code == 401
    assert await _failures(db) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        stored = await session.get(User, user.id)
        assert stored is not None
        assert stored.last_login_at is None


async def test_an_unknown_email_gets_the_same_answer(client: httpx.AsyncClient) -> None:
    response = await sign_in(client, "nobody@example.com")
    assert response.status_code == 401
    assert "wrong email or password" in response.text


async def test_a_disabled_user_cannot_sign_in(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    async with db.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(disabled_at=func.now()))
        await session.commit()
    response = await sign_in(client, user.email)
    assert response.status_code == 403
    assert "disabled" in response.text
    assert (await client.get("/api/me")).status_code == 401


async def test_disabling_a_user_ends_their_session(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    assert (await client.get("/api/me")).status_code == 200
    async with db.session() as session:
        await session.execute(
            update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
        )
        await session.commit()
    assert (await client.get("/api/me")).status_code == 401


async def test_after_repeated_failures_the_owner_waits_a_moment_and_is_never_locked_out(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESPONDER)
    for _ in range(3):  # the test settings slow an account down after 3 failures
        assert (await sign_in(client, user.email, "wrong password!")).status_code == 401
    slowed = await sign_in(client, user.email)
    assert slowed.status_code == 429
    assert slowed.headers["retry-after"] == "1"
    assert "the next attempt is possible in 1 s" in slowed.text
    await asyncio.sleep(1.05)
    assert (await sign_in(client, user.email)).status_code == 303


async def test_an_attackers_failures_from_many_addresses_delay_the_owner_by_at_most_the_cap(
    db: Database, make_user: MakeUser, settings: Settings
) -> None:
    user = await make_user(Role.RESPONDER)
    async with db.session() as session:
        session.add_all(LoginFailure(email=user.email, address=f"203.0.113.{n}") for n in range(40))
        await session.commit()
        latest = await session.scalar(select(func.max(LoginFailure.at)))
    assert latest is not None
    limits = ratelimit.LoginLimits(
        per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
        window_seconds=settings.login_failure_window_seconds,
        max_delay_seconds=settings.login_max_delay_seconds,
    )
    cap = timedelta(seconds=settings.login_max_delay_seconds)
    async with db.session() as session:
        with pytest.raises(RateLimited):
            await service.authenticate(
                session,
                email=user.email,
                password=PASSWORD,
                address="198.51.100.7",
                limits=limits,
                now=latest + cap - timedelta(seconds=1),
            )
    async with db.session() as session:
        signed_in = await service.authenticate(
            session,
            email=user.email,
            password=PASSWORD,
            address="198.51.100.7",
            limits=limits,
            now=latest + cap,
        )
        await service.signed_in(
            session, user=signed_in, address="198.51.100.7", how="password", now=latest + cap
        )
        await session.commit()
    assert signed_in.id == user.id
    assert await _failures(db) == 0


def test_the_delay_doubles_per_failure_up_to_the_cap() -> None:
    limits = ratelimit.LoginLimits(
        per_account=5, per_address=20, window_seconds=900, max_delay_seconds=60
    )
    delays = [limits.account_delay(n).total_seconds() for n in range(4, 13)]
    assert delays == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert limits.account_delay(10_000).total_seconds() == 60


async def test_an_address_is_limited_across_accounts(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESPONDER)
    for number in range(6):  # the test settings allow 6 failures per address
        response = await sign_in(client, f"guess{number}@example.com", "wrong password!")
        assert response.status_code == 401
    limited = await sign_in(client, user.email)
    assert limited.status_code == 429
    assert "this address" in limited.text


async def test_a_successful_sign_in_resets_the_account_counter(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESPONDER)
    for _ in range(2):
        await sign_in(client, user.email, "wrong password!")
    assert (await sign_in(client, user.email)).status_code == 303
    async with db.session() as session:
        left = await session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.email == user.email)
        )
    assert left == 0


async def test_login_without_a_csrf_token_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESPONDER)
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert (await client.get("/api/me")).status_code == 401


async def test_a_form_with_a_wrong_csrf_token_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.ADMIN)
    await sign_in(client, user.email)
    response = await client.post("/account/tokens", data={"name": "x", "csrftoken": "forged"})
    assert response.status_code == 403
    assert (await client.get("/api/tokens")).json() == []


async def test_signing_out_ends_the_session(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user(Role.RESEARCHER)
    await sign_in(client, user.email)
    response = await client.post("/logout", data={"csrftoken": await csrf(client, "/")})
    assert response.status_code == 303
    assert (await client.get("/api/me")).status_code == 401


async def test_a_cookie_copied_before_sign_out_is_worth_nothing_after_it(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESPONDER)
    await sign_in(client, user.email)
    copied = client.cookies.get("vulnops_session")
    assert copied and (await client.get("/api/me")).status_code == 200
    await client.post("/logout", data={"csrftoken": await csrf(client, "/")})
    thief = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with thief:
        thief.cookies.set("vulnops_session", copied)
        stolen = await thief.get("/api/me")
    assert stolen.status_code == 401
    async with db.session() as session:
        row = await session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row is not None and row.ended_at is not None and row.secret_hash not in copied


async def test_next_never_redirects_off_site(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESEARCHER)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = await csrf(client)  # each sign-in's page: the token follows the session
        response = await client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "next": target, "csrftoken": token},
        )
        assert response.headers["location"] == "/"
    token = await csrf(client)
    response = await client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "next": "/account", "csrftoken": token},
    )
    assert response.headers["location"] == "/account"


async def test_a_protected_page_sends_anonymous_visitors_to_sign_in(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/audit?kind=user.created")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit%3Fkind%3Duser.created"


async def test_changing_the_password_signs_out_other_sessions(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        await sign_in(other, user.email)
        assert (await other.get("/api/me")).status_code == 200
        response = await client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "csrftoken": await csrf(client, "/account"),
            },
        )
        assert response.status_code == 303
        assert (await client.get("/api/me")).status_code == 200
        assert (await other.get("/api/me")).status_code == 401
    assert (await sign_in(client, user.email, "a brand new passphrase")).status_code == 303


async def test_a_wrong_current_password_changes_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.ENGINEER)
    await sign_in(client, user.email)
    response = await client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "a brand new passphrase",
            "csrftoken": await csrf(client, "/account"),
        },
    )
    assert response.status_code == 422
    assert "current password is wrong" in response.text
    async with db.session() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        assert stored.password_hash == user.password_hash


async def test_concurrent_wrong_passwords_get_exactly_the_limit_of_password_checks(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    user = await make_user(Role.RESPONDER)
    token = await csrf(client)

    async def attempt() -> int:
        response = await client.post(
            "/login", data={"email": user.email, "password": "wrong password!", "csrftoken": token}
        )
        return response.status_code

    statuses = await asyncio.gather(*(attempt() for _ in range(40)))
    limit = settings.login_max_failures_per_account
    assert sorted(statuses) == [401] * limit + [429] * (40 - limit)
    assert await _failures(db) == limit
