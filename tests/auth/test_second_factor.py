"""Second factors with the codes ``pyotp`` computes from the secret the page shows: set up at
the first sign-in of a role that needs one, asked for at every sign-in after, each code good
once, recovery codes good once, and a failure count that the full sign-in clears."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
from sqlalchemy import func, select

from helpers import PASSWORD, MakeUser, csrf, sign_in
from vulnops.auth.models import LoginFailure, SecondFactor, User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return settings.model_copy(update={"second_factor_roles": ["admin", "responder"]})


@pytest.fixture
async def browser(db: Database, strict: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(strict, database=db), client=("203.0.113.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match is not None, f"no {name} on the page"
    return match.group(1)


def _secret(html: str) -> str:
    match = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html)
    assert match is not None
    return match.group(1)


async def _post(client: httpx.AsyncClient, page: str, action: str, **data: str) -> httpx.Response:
    token = _field((await client.get(page)).text, "csrftoken")
    return await client.post(action, data={**data, "csrftoken": token})


async def _enrolled(browser: httpx.AsyncClient, user: User) -> tuple[str, list[str]]:
    """Sign in for the first time: set up the app; its secret and the recovery codes."""
    first = await sign_in(browser, user.email)
    assert first.headers["location"] == "/login/second-factor/setup"
    return await _enrolled_after(browser)


async def _sign_out(client: httpx.AsyncClient) -> None:
    token = _field((await client.get("/account")).text, "csrftoken")
    await client.post("/logout", data={"csrftoken": token})


async def test_a_role_that_needs_a_second_factor_sets_one_up_before_it_is_signed_in(
    browser: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESPONDER)
    first = await sign_in(browser, user.email)
    assert first.status_code == 303
    assert (await browser.get("/api/me")).status_code == 401  # not signed in yet
    secret, codes = await _enrolled_after(browser)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await browser.get("/api/me")).json()["email"] == user.email
    async with db.session() as session:
        [factor] = list(await session.scalars(select(SecondFactor)))
    assert (factor.kind, factor.name, factor.totp_secret) == ("totp", "Work phone", secret)


async def _enrolled_after(browser: httpx.AsyncClient) -> tuple[str, list[str]]:
    page = await browser.get("/login/second-factor/setup")
    secret = _secret(page.text)
    wrong = await _post(
        browser, "/login/second-factor/setup", "/login/second-factor/setup", code="000000"
    )
    assert wrong.status_code == 422
    assert "does not match" in wrong.text
    done = await _post(
        browser,
        "/login/second-factor/setup",
        "/login/second-factor/setup",
        code=pyotp.TOTP(secret).now(),
        name="Work phone",
    )
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.text)
    return secret, codes


async def test_each_code_signs_in_once_and_a_wrong_one_is_refused(
    browser: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.ADMIN)
    secret, _ = await _enrolled(browser, user)
    await _sign_out(browser)
    step = await sign_in(browser, user.email)
    assert step.headers["location"] == "/login/second-factor"
    wrong = await _post(browser, "/login/second-factor", "/login/second-factor", code="123456")
    assert wrong.status_code == 401
    assert "wrong code" in wrong.text
    replayed = await _post(
        browser, "/login/second-factor", "/login/second-factor", code=pyotp.TOTP(secret).now()
    )
    assert replayed.status_code == 401  # the code the set-up used: within its window, yet used
    assert "used already" in replayed.text
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code
    passed = await _post(browser, "/login/second-factor", "/login/second-factor", code=later)
    assert passed.status_code == 303
    assert (await browser.get("/api/me")).status_code == 200


async def test_a_recovery_code_works_once(browser: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user(Role.RESPONDER)
    _, codes = await _enrolled(browser, user)
    for expected in (303, 401):
        await _sign_out(browser)
        await sign_in(browser, user.email)
        answer = await _post(browser, "/login/second-factor", "/login/second-factor", code=codes[0])
        assert answer.status_code == expected
    assert "wrong or was used already" in answer.text


async def test_after_an_attackers_failures_the_owner_signs_in_with_the_second_factor(
    browser: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    """Three wrong passwords (the test limit) slow the account; once the delay has passed the
    owner's password and code sign in, and the count is cleared."""
    user = await make_user(Role.RESPONDER)
    secret, _ = await _enrolled(browser, user)
    await _sign_out(browser)
    for _ in range(3):
        assert (await sign_in(browser, user.email, "wrong password!")).status_code == 401
    assert (await sign_in(browser, user.email)).status_code == 429
    await asyncio.sleep(1.05)
    assert (await sign_in(browser, user.email)).headers["location"] == "/login/second-factor"
    async with db.session() as session:
        before = await session.scalar(select(func.count()).select_from(LoginFailure))
    assert before == 3  # the password alone does not clear it
    code = pyotp.TOTP(secret).at(time.time() + 30)
    passed = await _post(browser, "/login/second-factor", "/login/second-factor", code=code)
    assert passed.status_code == 303
    async with db.session() as session:
        after = await session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.email == user.email)
        )
    assert after == 0


async def test_wrong_codes_count_like_wrong_passwords(
    browser: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.RESPONDER)
    await _enrolled(browser, user)
    await _sign_out(browser)
    await sign_in(browser, user.email)
    statuses = [
        (
            await _post(browser, "/login/second-factor", "/login/second-factor", code="111111")
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


async def test_the_second_step_without_a_password_first_goes_back_to_sign_in(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/login/second-factor")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    token = await csrf(browser)
    posted = await browser.post("/login/second-factor", data={"code": "123456", "csrftoken": token})
    assert posted.status_code == 303 and posted.headers["location"] == "/login"


async def test_a_role_without_the_requirement_signs_in_with_its_password_and_may_add_one(
    browser: httpx.AsyncClient, make_user: MakeUser, db: Database, strict: Settings
) -> None:
    user = await make_user(Role.RESEARCHER)
    assert (await sign_in(browser, user.email)).headers["location"] == "/"
    page = await browser.get("/account/security")
    secret = _secret(page.text)
    transport = httpx.ASGITransport(app=create_app(strict, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await sign_in(other, user.email)
        assert (await other.get("/api/me")).status_code == 200
        added = await _post(
            browser, "/account/security", "/account/security/totp", code=pyotp.TOTP(secret).now()
        )
        assert added.status_code == 200 and "Keep these recovery codes" in added.text
        assert (await other.get("/api/me")).status_code == 401  # a factor change ends sessions
    assert (await browser.get("/api/me")).status_code == 200  # this browser got a new one
    await _sign_out(browser)
    assert (await sign_in(browser, user.email, PASSWORD)).headers["location"] == (
        "/login/second-factor"
    )


async def test_removing_a_factor_or_new_recovery_codes_need_the_password(
    browser: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESPONDER)
    await _enrolled(browser, user)
    async with db.session() as session:
        [factor] = list(await session.scalars(select(SecondFactor)))
    action = f"/account/security/factors/{factor.id}/remove"
    without = await _post(browser, "/account/security", action, password="not it")
    assert without.status_code == 422 and "the password is wrong" in without.text
    codes = await _post(
        browser, "/account/security", "/account/security/recovery-codes", password="not it"
    )
    assert codes.status_code == 422
    last = await _post(browser, "/account/security", action, password=PASSWORD)
    assert last.status_code == 422 and "add another before this one" in last.text
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(SecondFactor)) == 1
    fresh = await _post(
        browser, "/account/security", "/account/security/recovery-codes", password=PASSWORD
    )
    assert fresh.status_code == 200 and "Keep these recovery codes" in fresh.text
