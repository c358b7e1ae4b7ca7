"""Single sign-on against a real OpenID Connect provider process: the `oidc-provider` package
from the npm registry, run with Node.js (installed by the test the first time; skipped where
Node.js or npm is missing). The browser's part (the provider's login and consent forms) is
played by an HTTP client that keeps the provider's cookies."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc.errors import BadSignatureError, InvalidClaimError, MissingClaimError
from pydantic import SecretStr
from sqlalchemy import func, select

from helpers import PASSWORD, MakeUser, sign_in
from vulnops.auth import sso
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import Forbidden
from vulnops.settings import Settings
from vulnops.web.app import create_app

HERE = Path(__file__).parent / "oidc"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vulnops-tests" / "oidc"
APP = "http://testserver"
GROUPS = {
    "riley": ["staff", "sec-responders"],
    "rowan": ["staff", "release-managers"],
    "nobody": ["staff"],
}
ROLE_MAP = {"sec-responders": "responder", "release-managers": "release_manager"}


def _installed() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the OpenID Connect provider")
    if not (CACHE / "node_modules" / "oidc-provider").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"private": true, "type": "module"}')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "oidc-provider@9"],
            cwd=CACHE,
            check=True,
            timeout=300,
        )
    shutil.copy(HERE / "provider.mjs", CACHE / "provider.mjs")
    return CACHE


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's issuer URL, its process running."""
    where = _installed()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["node", "provider.mjs"],
        cwd=where,
        env={
            **os.environ,
            "PORT": str(port),
            "CLIENT_ID": "vulnops",
            "CLIENT_SECRET": "a-long-client-secret-for-the-tests",
            "REDIRECT_URI": f"{APP}/login/sso/callback",
            "GROUPS": json.dumps(GROUPS),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while process.stdout.readline().strip() != "ready":
        assert process.poll() is None and time.monotonic() < deadline, "the provider did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sso_settings(settings: Settings, provider: str) -> Settings:
    return settings.model_copy(
        update={
            "public_url": APP,
            "oidc_issuer": provider,
            "oidc_client_id": "vulnops",
            "oidc_client_secret": SecretStr("a-long-client-secret-for-the-tests"),
            "oidc_role_map": ROLE_MAP,
        }
    )


@pytest.fixture
async def app_client(db: Database, sso_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(sso_settings, database=db))
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        yield client


def _form(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action is not None, html[:500]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return unescape(action.group(1)), fields


async def _at_provider(url: str, login: str) -> str:
    """Play the browser at the provider: sign in as ``login``, consent; the URL it sends the
    browser back to (our callback, with the code and the state)."""
    async with httpx.AsyncClient() as browser:
        while True:
            response = await browser.get(url)
            while response.is_redirect:
                url = urljoin(str(response.url), response.headers["location"])
                if url.startswith(APP):
                    return url
                response = await browser.get(url)
            action, fields = _form(response.text)
            if "login" in re.findall(r'name="([^"]+)"', response.text):
                fields.update(login=login, password="anything")
            answer = await browser.post(urljoin(str(response.url), action), data=fields)
            assert answer.is_redirect, answer.text[:500]
            url = urljoin(str(answer.url), answer.headers["location"])
            if url.startswith(APP):
                return url


async def _sso(app_client: httpx.AsyncClient, login: str) -> httpx.Response:
    start = await app_client.get("/login/sso")
    assert start.status_code == 302
    back = await _at_provider(start.headers["location"], login)
    return await app_client.get(back.removeprefix(APP))


async def test_a_first_sign_in_makes_the_account_with_the_role_its_groups_map_to(
    app_client: httpx.AsyncClient, db: Database
) -> None:
    start = await app_client.get("/login/sso")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    back = await _at_provider(start.headers["location"], "riley")
    signed_in = await app_client.get(back.removeprefix(APP))
    assert signed_in.status_code == 303
    me = (await app_client.get("/api/me")).json()
    assert (me["email"], me["role"]) == ("riley@corp.example", "responder")
    replayed = await app_client.get(back.removeprefix(APP))  # the same code and state again
    assert replayed.status_code == 401
    assert "single sign-on failed" in replayed.text
    async with db.session() as session:
        [user] = list(await session.scalars(select(User)))
    assert user.sso_subject is not None and user.sso_subject.endswith("|riley")


async def test_the_role_follows_the_provider_and_an_unmapped_account_gets_nothing(
    app_client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    await make_user(Role.ENGINEER, email="rowan@corp.example")  # linked by its verified email
    assert (await _sso(app_client, "rowan")).status_code == 303
    assert (await app_client.get("/api/me")).json()["role"] == "release_manager"
    refused = await _sso(app_client, "nobody")
    assert refused.status_code == 403
    assert "has no vulnops role" in refused.text
    async with db.session() as session:
        emails = set(await session.scalars(select(User.email)))
    assert emails == {"rowan@corp.example"}


async def test_a_forged_state_and_a_provider_error_are_refused_and_nothing_is_made(
    app_client: httpx.AsyncClient, db: Database
) -> None:
    forged = await app_client.get("/login/sso/callback?code=abc&state=made-up")
    assert forged.status_code == 401
    denied = await app_client.get(
        "/login/sso/callback?error=access_denied&error_description=User+said+no"
    )
    assert denied.status_code == 401 and "User said no" in denied.text
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def _real_token(provider: str, *, nonce: str) -> dict[str, object]:
    """A token response of the provider, got by the authorization code flow with PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    async with httpx.AsyncClient() as http:
        metadata = (await http.get(f"{provider}/.well-known/openid-configuration")).json()
        url = httpx.URL(
            metadata["authorization_endpoint"],
            params={
                "client_id": "vulnops",
                "response_type": "code",
                "scope": "openid email groups",
                "redirect_uri": f"{APP}/login/sso/callback",
                "state": "s",
                "nonce": nonce,
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
            },
        )
        back = await _at_provider(str(url), "riley")
        code = parse_qs(urlsplit(back).query)["code"][0]
        answer = await http.post(
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{APP}/login/sso/callback",
                "code_verifier": verifier,
            },
            auth=("vulnops", "a-long-client-secret-for-the-tests"),
        )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_tampered_id_token_a_wrong_audience_and_a_replayed_nonce_are_refused(
    sso_settings: Settings, provider: str
) -> None:
    """The provider's own ID token and keys, checked as the callback has Authlib check them."""
    client = sso.client(sso_settings)
    assert client is not None
    token = await _real_token(provider, nonce="nonce-1")
    claims = await client.parse_id_token(token, nonce="nonce-1")
    assert claims["sub"] == "riley" and claims["groups"] == GROUPS["riley"]
    header, body, signature = str(token["id_token"]).split(".")
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    with pytest.raises(BadSignatureError):
        await client.parse_id_token({**token, "id_token": f"{header}.{body}.{flipped}"}, "nonce-1")
    with pytest.raises(InvalidClaimError, match="nonce"):
        await client.parse_id_token(token, nonce="the-nonce-of-another-sign-in")
    other = sso.client(sso_settings.model_copy(update={"oidc_client_id": "someone-else"}))
    assert other is not None
    # Not for this client: its audience, and so its authorized party, is another one.
    with pytest.raises(MissingClaimError, match="azp"):
        await other.parse_id_token(token, nonce="nonce-1")


async def test_staff_may_be_held_to_single_sign_on(
    db: Database, sso_settings: Settings, make_user: MakeUser
) -> None:
    held = sso_settings.model_copy(update={"oidc_required_for_staff": True})
    transport = httpx.ASGITransport(app=create_app(held, database=db))
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        staff = await make_user(Role.RESPONDER)
        refused = await sign_in(client, staff.email, PASSWORD)
        assert refused.status_code == 403 and "single sign-on" in refused.text
        assert 'href="/login/sso"' in refused.text
        researcher = await make_user(Role.RESEARCHER)
        assert (await sign_in(client, researcher.email, PASSWORD)).status_code == 303


def test_a_role_map_to_an_unknown_or_outside_role_stops_the_start(settings: Settings) -> None:
    for bad, message in (({"g": "wizard"}, "no role 'wizard'"), ({"g": "customer"}, "not a staff")):
        with pytest.raises(ValueError, match=message):
            sso.role_map(settings.model_copy(update={"oidc_role_map": bad}))


def test_the_first_mapped_role_wins_and_no_match_is_refused() -> None:
    mapping = {"a": Role.ADMIN, "r": Role.RESPONDER}
    assert sso.role_from_claims({"groups": ["r", "a"]}, claim="groups", mapping=mapping) is (
        Role.ADMIN
    )
    assert sso.role_from_claims({"roles": "r"}, claim="roles", mapping=mapping) is Role.RESPONDER
    with pytest.raises(Forbidden, match="none of its groups"):
        sso.role_from_claims({"groups": ["x"]}, claim="groups", mapping=mapping)


async def test_an_unconfirmed_registration_of_the_address_is_taken_over_by_the_provider(
    app_client: httpx.AsyncClient, db: Database, mail_settings: Settings
) -> None:
    """Someone registered riley's address and never confirmed it: signing in through the
    provider links the account, and that someone's password and link stop working."""
    transport = httpx.ASGITransport(app=create_app(mail_settings, database=db))
    async with httpx.AsyncClient(transport=transport, base_url=APP) as squatter:
        asked = await squatter.post(
            "/api/register", json={"email": "riley@corp.example", "password": "squatters pass!"}
        )
        assert asked.status_code == 202
    assert (await _sso(app_client, "riley")).status_code == 303
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.email == "riley@corp.example"))
        assert user is not None
        assert (user.role, user.confirmation_hash) == ("responder", None)
        assert user.email_confirmed_at is not None
    async with httpx.AsyncClient(transport=transport, base_url=APP) as squatter:
        assert (await sign_in(squatter, "riley@corp.example", "squatters pass!")).status_code == 401
