"""Self-registration: the same answer for a new and a taken address, the account usable once
its owner follows the emailed link (the probe found "an account with the email … already
exists", which told anyone which accounts exist)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from helpers import PASSWORD, MakeUser, SmtpSink, csrf, run_jobs_until, sign_in
from vulnops.auth import ratelimit
from vulnops.auth.models import RegistrationAttempt, User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.mail.models import OutboundEmail
from vulnops.settings import Settings
from vulnops.web.app import create_app

SECRET = "long enough secret"


async def _users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def _emails(db: Database, to: str) -> list[OutboundEmail]:
    async with db.session() as session:
        rows = await session.scalars(
            select(OutboundEmail).where(OutboundEmail.to_address == to).order_by(OutboundEmail.id)
        )
        return list(rows)


def _link(email: OutboundEmail) -> str:
    match = re.search(r"/register/confirm\?token=(\S+)", email.body)
    assert match is not None, email.body
    return match.group(1)


async def _confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get(f"/register/confirm?token={token}")
    assert page.status_code == 200
    form = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert form is not None
    return await client.post("/register/confirm", data={"token": token, "csrftoken": form.group(1)})


async def test_a_new_address_gets_an_account_usable_after_the_emailed_link(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    response = await mail_client.post(
        "/api/register", json={"email": "ada@example.com", "password": SECRET, "display_name": "a"}
    )
    assert response.status_code == 202
    assert "Check your inbox at ada@example.com" in response.json()["detail"]
    refused = await sign_in(mail_client, "ada@example.com", SECRET)
    wrong = await sign_in(mail_client, "taken-or-not@example.com", SECRET)
    assert refused.status_code == wrong.status_code == 401  # an oracle no more
    assert refused.text.replace("ada@example.com", "x") == wrong.text.replace(
        "taken-or-not@example.com", "x"
    )
    assert "follow the link we emailed" in refused.text
    [email] = await _emails(db, "ada@example.com")
    assert email.kind == "registration_confirm"
    assert (await _confirm(mail_client, _link(email))).status_code == 303
    me = (await mail_client.get("/api/me")).json()
    assert (me["email"], me["role"]) == ("ada@example.com", "researcher")
    again = await _confirm(mail_client, _link(email))  # a used link is worth nothing
    assert again.status_code == 422
    assert "unknown, used or older than 48 hours" in again.text


async def test_a_taken_address_gets_the_same_answer_and_its_owner_an_email(
    mail_client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    mail_settings: Settings,
    smtp_server: tuple[SmtpSink, int],
) -> None:
    owner = await make_user(Role.RESPONDER)
    new = await mail_client.post(
        "/api/register", json={"email": "new@example.com", "password": SECRET}
    )
    taken = await mail_client.post(
        "/api/register", json={"email": owner.email.upper(), "password": SECRET}
    )
    assert taken.status_code == new.status_code == 202
    assert taken.json()["detail"] == new.json()["detail"].replace("new@example.com", owner.email)
    async with db.session() as session:
        stored = await session.get(User, owner.id)
        assert stored is not None
        assert (stored.password_hash, stored.role) == (owner.password_hash, "responder")
    assert (await sign_in(mail_client, owner.email, PASSWORD)).status_code == 303
    sink, _ = smtp_server

    async def both_sent() -> bool:
        return len(sink.messages) == 2

    await run_jobs_until(db, mail_settings, both_sent)
    told = next(m for m in sink.messages if m["To"] == owner.email)
    assert told["Subject"] == "Someone tried to register with your address"
    assert "/register/confirm" not in told.get_content()


async def test_registering_an_unconfirmed_address_again_replaces_its_link_and_password(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    body = {"email": "squat@example.com", "password": "the squatters pass"}
    await mail_client.post("/api/register", json=body)
    await mail_client.post("/api/register", json={**body, "password": SECRET})
    first, second = await _emails(db, "squat@example.com")
    assert (await _confirm(mail_client, _link(first))).status_code == 422
    assert (await _confirm(mail_client, _link(second))).status_code == 303
    assert await _users(db) == 1
    assert (await sign_in(mail_client, "squat@example.com", SECRET)).status_code == 303


async def test_a_link_older_than_48_hours_is_refused(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    await mail_client.post("/api/register", json={"email": "late@example.com", "password": SECRET})
    [email] = await _emails(db, "late@example.com")
    async with db.session() as session:
        await session.execute(
            update(User).values(confirmation_sent_at=datetime.now(UTC) - timedelta(hours=49))
        )
        await session.commit()
    response = await _confirm(mail_client, _link(email))
    assert response.status_code == 422
    assert "older than 48 hours" in response.text


async def test_without_smtp_registration_says_so_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(
        "/api/register", json={"email": "a@example.com", "password": SECRET}
    )
    assert response.status_code == 503
    assert "needs email to confirm the address" in response.json()["detail"]
    assert await _users(db) == 0


async def test_registration_cannot_choose_a_role(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    response = await mail_client.post(
        "/api/register", json={"email": "eve@example.com", "password": SECRET, "role": "admin"}
    )
    assert response.status_code == 422
    assert "role" in response.json()["detail"]
    assert await _users(db) == 0


async def test_registration_refuses_bad_input_and_writes_nothing(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    short = await mail_client.post(
        "/api/register", json={"email": "a@example.com", "password": "short"}
    )
    assert short.status_code == 422
    assert "at least 12" in short.json()["detail"]
    email = await mail_client.post(
        "/api/register", json={"email": "not-an-email", "password": SECRET}
    )
    assert email.status_code == 422
    assert "email" in email.json()["detail"]
    missing = await mail_client.post("/api/register", json={"email": "a@example.com"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "password"]
    malformed = await mail_client.post(
        "/api/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["title"] == "Malformed JSON"
    assert await _users(db) == 0
    assert await _emails(db, "a@example.com") == []


async def test_the_register_page_sends_the_link(
    mail_client: httpx.AsyncClient, db: Database
) -> None:
    token = await csrf(mail_client, "/register")
    response = await mail_client.post(
        "/register",
        data={
            "email": "grace@example.com",
            "password": SECRET,
            "display_name": "Grace",
            "csrftoken": token,
        },
    )
    assert response.status_code == 200
    assert "Check your inbox at grace@example.com" in response.text
    [email] = await _emails(db, "grace@example.com")
    assert (await _confirm(mail_client, _link(email))).status_code == 303
    assert (await mail_client.get("/api/me")).json()["display_name"] == "Grace"


async def test_the_register_page_shows_errors(mail_client: httpx.AsyncClient, db: Database) -> None:
    token = await csrf(mail_client, "/register")
    response = await mail_client.post(
        "/register",
        data={"email": "grace@example.com", "password": "short", "csrftoken": token},
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.text
    assert await _users(db) == 0


def _client_at(db: Database, settings: Settings, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, database=db), client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _attempts(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(RegistrationAttempt)) or 0)


async def test_one_address_gets_the_limit_of_registrations_an_hour(
    db: Database, mail_settings: Settings, make_user: MakeUser
) -> None:
    """30 registrations from one address in 5.4 s were all accepted: now the limit's worth an
    hour (new and taken addresses alike, so the count tells nothing), then 429 with
    Retry-After, through the API and the page, and nothing is written for the refused one."""
    limited = mail_settings.model_copy(update={"registrations_per_address_per_hour": 3})
    owner = await make_user(Role.RESEARCHER)
    async with _client_at(db, limited, "198.51.100.20") as client:
        for email in ("one@example.com", owner.email, "two@example.com"):
            answer = await client.post("/api/register", json={"email": email, "password": SECRET})
            assert answer.status_code == 202, answer.text
        users, emails = await _users(db), await _emails(db, "three@example.com")
        refused = await client.post(
            "/api/register", json={"email": "three@example.com", "password": SECRET}
        )
        assert refused.status_code == 429
        assert "3 registrations came from this address within the hour" in refused.text
        assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
        token = await csrf(client, "/register")
        page = await client.post(
            "/register",
            data={"email": "three@example.com", "password": SECRET, "csrftoken": token},
        )
        assert page.status_code == 429 and "within the hour" in page.text
        assert int(page.headers["Retry-After"]) > 3500
    assert (await _users(db), await _emails(db, "three@example.com")) == (users, emails)
    assert await _attempts(db) == 3

    async with _client_at(db, limited, "198.51.100.21") as elsewhere:
        answer = await elsewhere.post(
            "/api/register", json={"email": "three@example.com", "password": SECRET}
        )
        assert answer.status_code == 202  # another address has its own count
    async with db.session() as session:
        await session.execute(
            update(RegistrationAttempt)
            .where(RegistrationAttempt.address == "198.51.100.20")
            .values(at=RegistrationAttempt.at - timedelta(minutes=61))
        )
        await session.commit()
    async with _client_at(db, limited, "198.51.100.20") as client:
        answer = await client.post(
            "/api/register", json={"email": "four@example.com", "password": SECRET}
        )
        assert answer.status_code == 202  # an hour later, the address may register again


async def test_pruning_forgets_registrations_older_than_their_hour(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add_all(
            [
                RegistrationAttempt(address="198.51.100.30", at=now - timedelta(minutes=61)),
                RegistrationAttempt(address="198.51.100.30", at=now - timedelta(minutes=5)),
            ]
        )
        await session.commit()
        removed = await ratelimit.prune(session, window_seconds=900)
        await session.commit()
    assert removed == 1
    assert await _attempts(db) == 1
