"""The web shell: health, readiness, problem details, error pages, security headers, docs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from psycopg import sql

from helpers import MakeUser, csrf, sign_in
from vulnops.auth.roles import Role
from vulnops.db import embedded
from vulnops.db.database import Database
from vulnops.db.migrate import head_revision
from vulnops.settings import Settings
from vulnops.web.app import create_app


async def test_healthz_answers_without_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database_and_its_migrations(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["migration"] == head_revision()


@pytest.fixture
async def unmigrated(server_url: str) -> AsyncIterator[Database]:
    name = "vulnops_test_unmigrated"
    url = embedded.ensure_database(server_url, name)
    database = Database(url, pool_size=1)
    yield database
    await database.dispose()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


async def test_readyz_is_503_before_migrations(unmigrated: Database, settings: Settings) -> None:
    app = create_app(settings, database=unmigrated)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "migrations not current" in response.json()["detail"]


async def test_api_errors_are_rfc9457_problems(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert body["status"] == 404
    assert body["instance"] == "/api/no-such-thing"


async def test_a_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/me")
    assert response.status_code == 405
    assert response.json()["title"] == "Method not allowed"


async def test_people_get_a_friendly_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "nothing at /no-such-page" in response.text
    assert "Back to the start" in response.text


@pytest.mark.parametrize("path", ["/", "/login", "/api/me", "/healthz", "/docs", "/static/app.css"])
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    directives = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


async def test_pages_carry_no_inline_script(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    for path in ("/", "/admin/users", "/audit", "/account", "/account/tokens", "/docs"):
        html = (await client.get(path)).text
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), f"inline script on {path}"
        assert " on" + "click=" not in html


async def test_the_api_is_documented(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/users" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    docs = await client.get("/docs")
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    bundle = await client.get("/static/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000


async def test_navigation_follows_the_role(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    researcher = await make_user(Role.RESEARCHER)
    await sign_in(client, researcher.email)
    home = (await client.get("/")).text
    assert 'href="/account/tokens"' in home
    assert 'href="/admin/users"' not in home
    assert 'href="/audit"' not in home


async def test_the_landing_page_invites_researchers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "Report a vulnerability" in page.text


async def test_a_404_shows_a_signed_in_person_their_own_navigation(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert admin.display_name in missing.text and "Sign out" in missing.text
    assert 'href="/cases"' in missing.text and "Register as a researcher" not in missing.text
    # An administrator has every permission but no tenant: no customer pages in the bar.
    assert 'href="/advisories"' not in missing.text
    assert 'href="/fleet/my-tenant"' not in missing.text


async def test_a_refused_form_goes_back_to_its_page_with_the_error_for_its_field(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    responder = await make_user(Role.RESPONDER)
    await sign_in(client, responder.email)
    token = await csrf(client, "/cases/new")
    opened = await client.post("/cases/new", data={"title": "Quota bypass", "csrftoken": token})
    case_page = opened.headers["location"]
    refused = await client.post(
        f"{case_page}/severity",
        data={"cvss31_vector": "CVSS:3.1/AV:X", "reason": "triage", "csrftoken": token},
        headers={"referer": f"http://testserver{case_page}"},
    )
    assert refused.status_code == 303 and refused.headers["location"] == case_page
    shown = (await client.get(case_page)).text
    assert f'data-form="{case_page}/severity"' in shown
    assert 'data-field="cvss31_vector"' in shown and "AV:X" in shown
    # A field over its limit is refused the same way, saying which field.
    long = await client.post(
        f"{case_page}/severity",
        data={"reason": "x" * 2001, "csrftoken": token},
        headers={"referer": f"http://testserver{case_page}"},
    )
    assert long.status_code == 303
    assert 'data-field="reason"' in (await client.get(case_page)).text
