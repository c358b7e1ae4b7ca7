"""The CSRF check on its own: tokens in pages, forms, multipart order, headers."""

from __future__ import annotations

import re

import httpx

from helpers import MakeUser, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app


def _hidden_token(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]*)"', html)
    assert match is not None, "no csrftoken field on the page"
    return match.group(1)


async def test_every_form_page_carries_the_cookies_token(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await sign_in(client, (await make_user(Role.ADMIN)).email)
    for path in ("/reports/new", "/account/tokens", "/admin/users", "/cases/new", "/scans/import"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert _hidden_token(page.text) == client.cookies["csrftoken"], path


async def test_a_multipart_form_passes_with_its_token_first(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    token = _hidden_token((await client.get("/reports/new")).text)
    sent = await client.post(
        "/reports/new",
        data={"csrftoken": token, "title": "Token first", "description": "fine"},
        files=[("files", ("poc.txt", b"proof", "text/plain"))],
    )
    assert sent.status_code == 303


async def test_a_file_before_the_token_fails_the_check(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    token = client.cookies["csrftoken"]
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nproof\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    refused = await client.post(
        "/reports/new",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert refused.status_code == 403


async def test_json_with_a_session_needs_the_header(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    await client.get("/reports/new")  # a page of the session sets the session's token
    body = {"title": "JSON from the browser", "description": "d"}
    assert (await client.post("/api/reports", json=body)).status_code == 403
    allowed = await client.post(
        "/api/reports", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]}
    )
    assert allowed.status_code == 201


async def test_a_forged_cookie_is_not_a_token(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    client.cookies.set("csrftoken", "made-up")
    response = await client.post(
        "/logout", data={"csrftoken": "made-up"}, headers={"x-csrftoken": "made-up"}
    )
    assert response.status_code == 403


async def test_a_token_from_another_session_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    """An attacker's own valid token, planted in the victim's browser, does not pass."""
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        await sign_in(attacker, (await make_user(Role.RESEARCHER)).email)
        planted = _hidden_token((await attacker.get("/account")).text)
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    domain = next(cookie.domain for cookie in client.cookies.jar if cookie.name == "csrftoken")
    client.cookies.set("csrftoken", planted, domain=domain)
    response = await client.post("/logout", data={"csrftoken": planted})
    assert response.status_code == 403
    own = _hidden_token((await client.get("/account")).text)
    assert own != planted
    assert (await client.post("/logout", data={"csrftoken": own})).status_code == 303


async def test_the_token_from_before_sign_in_is_replaced_after_it(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    before = _hidden_token((await client.get("/login")).text)
    await sign_in(client, (await make_user(Role.RESEARCHER)).email)
    after = _hidden_token((await client.get("/account")).text)
    assert after != before
    assert (await client.post("/logout", data={"csrftoken": before})).status_code == 403
