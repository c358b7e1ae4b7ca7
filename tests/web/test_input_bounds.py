"""The input boundary: what the database cannot store is a 422 naming the field, on every
kind of input (path, query, form, JSON body), never a server error; and the app does not start
with a route that takes unbounded input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select

from helpers import MakeUser, api_token, bearer, csrf, serving_app
from vulnops.auth.roles import Role
from vulnops.cases.models import Case
from vulnops.db.bounded import MAX_BIGINT, Input, storable
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.input_bounds import UnboundedInput, check_bounds

HUGE = "99999999999999999999"  # above 2**63 - 1
JSON = {"accept": "application/json"}


def test_text_the_database_cannot_store_is_named() -> None:
    assert storable("plain text, é, 😀") == "plain text, é, 😀"
    with pytest.raises(ValueError, match="NUL character \\(at position 4\\)"):
        storable("CASE\x00X")
    with pytest.raises(ValueError, match="unpaired surrogate"):
        storable("a\ud800b")


async def test_a_nul_byte_on_a_public_route_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/security/advisories/CASE%00X")
    assert response.status_code == 422
    assert "NUL character" in response.text
    api = await client.get("/security/advisories/CASE%00X.json", headers=JSON)
    assert api.status_code == 422
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["errors"][0]["loc"] == ["path", "tracking_id"]


async def test_a_nul_byte_in_the_sign_in_form(client: httpx.AsyncClient) -> None:
    token = await csrf(client)
    form = {"email": "a\x00@example.com", "password": "x", "csrftoken": token}
    as_api = await client.post("/login", data=form, headers=JSON)
    assert as_api.status_code == 422
    assert "email: text may not contain a NUL character" in as_api.json()["detail"]
    # A browser is sent back to the form with the reason beside the field.
    browser = await client.post("/login", data=form, headers={"referer": "http://testserver/login"})
    assert browser.status_code == 303
    page = await client.get(browser.headers["location"])
    assert "NUL character" in page.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/security/advisories?page={HUGE}", None),
        ("GET", f"/api/users/{HUGE}", None),
        ("PATCH", f"/api/cases/{HUGE}", {"title": "Renamed"}),
        ("POST", "/api/rollouts", {"fix_id": -(2**70), "policy": "standard"}),
        ("GET", f"/api/cases?page={HUGE}", None),
    ],
)
async def test_an_integer_beyond_its_column_is_a_422(
    db: Database,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    response = await client.request(method, path, json=body, headers={**admin, **JSON})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_body_is_bounded_whatever_its_fields_declare(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    cases = [
        ({"title": "A title\x00", "services": []}, "title: text may not contain a NUL"),
        ({"title": "A title", "services": ["svc\x00"]}, "services.0: text may not contain"),
        ({"title": "A title", "report_ids": [2**64]}, "report_ids.0: the number is outside"),
        ({"title": "A title", "deep": _nested(40)}, "nested deeper than 32 levels"),
        ({"title": "A title", "services": ["s"] * 10_001}, "more than 10000 entries"),
        ({"title": "A title", "restricted": 0}, "restricted: Input should be a valid boolean"),
    ]
    for body, reason in cases:
        response = await client.post("/api/cases", json=body, headers=staff)
        assert response.status_code == 422, (body, response.text)
        assert reason in response.json()["detail"], response.json()["detail"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_the_connection_survives_a_refused_request(db: Database, settings: Settings) -> None:
    """A refused request leaves the keep-alive connection usable (a server error used to reset
    it, failing the client's next request too)."""
    with serving_app(settings) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(3):
                refused = await client.get(f"/security/advisories?page={HUGE}", headers=JSON)
                assert refused.status_code == 422
                assert (await client.get("/healthz")).status_code == 200


class Loose(Input):
    flag: bool


def test_a_route_with_unbounded_input_stops_the_app() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: int, q: str) -> dict[str, str]:
        return {}

    @router.post("/things")
    async def make(body: Loose) -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(UnboundedInput) as refused:
        check_bounds(app.routes)
    message = str(refused.value)
    assert "GET /things/{thing_id} thing_id: an integer without bounds" in message
    assert "GET /things/{thing_id} q: text without the storable check" in message
    assert "POST /things body: Loose.flag is a boolean that is not strict" in message


def test_the_document_declares_public_routes_open_and_errors_as_problems(
    settings: Settings,
) -> None:
    document = create_app(settings).openapi()
    advisories = document["paths"]["/security/advisories"]["get"]
    assert "security" not in advisories
    assert document["paths"]["/api/cases"]["get"]["security"] == [{"HTTPBearer": []}]
    case = document["paths"]["/api/cases/{case_id}"]["patch"]
    assert {"400", "401", "403", "404", "409", "413", "422", "429"} <= set(case["responses"])
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    problem = answer["content"]["application/problem+json"]["schema"]
                    assert problem == {"$ref": "#/components/schemas/Problem"}
    path_id = case["parameters"][0]["schema"]
    assert path_id["maximum"] == MAX_BIGINT
    restricted = document["components"]["schemas"]["CaseIn"]["properties"]["restricted"]
    assert {"type": "boolean"} in restricted["anyOf"]
