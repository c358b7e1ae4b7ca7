"""Every route of the app, for every role and for an anonymous caller.

The walk takes the routes from the app itself, so a route added later is walked too; a route that
declares no rule stops the app from starting at all.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from helpers import MakeUser, api_token, bearer, csrf
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.routes import Endpoint, MissingPermissionRule, check_rules, endpoints

# A path parameter of a route under test gets an id that names nothing.
ABSENT_ID = "987654"
DENIED = {401, 403}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", ABSENT_ID, path)


def _expected_denial(endpoint: Endpoint, role: Role | None) -> int | None:
    """The status a caller must get when the rule refuses them; None when allowed."""
    assert endpoint.rule is not None
    if endpoint.rule.allows(role):
        return None
    if role is None:
        return 401 if endpoint.path.startswith("/api/") else 303
    return 404 if endpoint.rule.hide else 403


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: dict[str, object] = {}
    if method in {"POST", "PUT", "PATCH"}:
        body = {"json": {}} if path.startswith("/api/") else {"data": {}}
    return await client.request(method, path, headers=headers, **body)  # type: ignore[arg-type]


async def test_every_route_answers_every_role_as_its_rule_says(
    db: Database, settings: Settings, make_user: MakeUser
) -> None:
    app = create_app(settings, database=db)
    tokens: dict[Role | None, dict[str, str]] = {None: {}}
    for role in Role:
        tokens[role] = bearer(await api_token(db, await make_user(role)))

    walked = 0
    failures = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # The anonymous caller is a browser that loaded a page: it holds a CSRF token.
        tokens[None] = {"x-csrftoken": await csrf(client)}
        for endpoint in endpoints(app.routes):
            for method in sorted(endpoint.methods - {"HEAD"}):
                path = _concrete(endpoint.path)
                for role, headers in tokens.items():
                    response = await _call(client, method, path, headers)
                    walked += 1
                    expected = _expected_denial(endpoint, role)
                    who = role.value if role else "anonymous"
                    if expected is None and response.status_code in DENIED:
                        failures.append(f"{who} refused {method} {path}: {response.status_code}")
                    elif expected is not None and response.status_code != expected:
                        failures.append(
                            f"{who} {method} {path}: {response.status_code}, expected {expected}"
                        )
                    elif expected == 303:
                        assert response.headers["location"].startswith("/login?next=")
    assert not failures, "\n".join(failures)
    assert walked >= len(Role) * 30


# What people expect, written out by hand rather than derived from the rule table.
SPOT_CHECKS: list[tuple[str, str, dict[Role | None, int]]] = [
    ("GET", "/api/users", {Role.ADMIN: 200, Role.RESPONDER: 403, Role.CUSTOMER: 403, None: 401}),
    ("GET", "/admin/users", {Role.ADMIN: 200, Role.RESEARCHER: 403, None: 303}),
    ("GET", "/api/audit/events", {Role.RESPONDER: 200, Role.ENGINEER: 403, None: 401}),
    ("GET", "/api/audit/verify", {Role.ADMIN: 200, Role.RESPONDER: 403}),
    ("GET", "/api/me", {Role.CUSTOMER: 200, Role.RESEARCHER: 200, None: 401}),
    ("GET", "/account/tokens", {Role.RELEASE_MANAGER: 200, None: 303}),
    ("GET", "/healthz", {None: 200, Role.CUSTOMER: 200}),
    ("GET", "/login", {None: 200}),
]


@pytest.mark.parametrize(("method", "path", "expected"), SPOT_CHECKS)
async def test_spot_checks(
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    method: str,
    path: str,
    expected: dict[Role | None, int],
) -> None:
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for role, status in expected.items():
            headers = bearer(await api_token(db, await make_user(role))) if role else {}
            response = await client.request(method, path, headers=headers)
            assert response.status_code == status, (role, response.text[:200])


def test_a_route_without_a_rule_stops_the_app() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(MissingPermissionRule, match="GET /forgotten"):
        check_rules(app.routes)


def test_the_real_app_declares_a_rule_on_every_route(settings: Settings) -> None:
    app = create_app(settings)
    assert all(endpoint.rule is not None for endpoint in endpoints(app.routes))
