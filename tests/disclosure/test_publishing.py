"""Reserving and publishing a CVE through a local server that answers the CVE Services
endpoints cvelib calls (the real service is not reachable here), and the disclosure itself:
never before the customers were told, never with a date in the past."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer, serving
from notify.notify_world import World, draft, world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"


@dataclass
class CveServicesDouble:
    """POST /api/cve-id and POST /api/cve/{id}/cna, as CVE Services answers them."""

    fail_publish: bool = False
    reservations: list[dict[str, Any]] = field(default_factory=list)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/cve-id")
        async def reserve(request: Request) -> dict[str, Any]:
            self.headers.append(dict(request.headers))
            self.reservations.append(dict(request.query_params))
            year = request.query_params["cve_year"]
            return {"cve_ids": [{"cve_id": f"CVE-{year}-1000", "state": "RESERVED"}]}

        @app.post("/api/cve/{cve_id}/cna")
        async def publish(cve_id: str, request: Request) -> JSONResponse:
            if self.fail_publish:
                return JSONResponse(
                    {"error": "BAD_INPUT", "message": "affected[0].product is not allowed"},
                    status_code=400,
                )
            self.published[cve_id] = (await request.json())["cnaContainer"]
            return JSONResponse({"message": f"{cve_id} was successfully published."})

        return app


@pytest.fixture
def cve_services() -> Iterator[tuple[CveServicesDouble, str]]:
    double = CveServicesDouble()
    with serving(double.app()) as base:
        yield double, f"{base}/api/"


@pytest.fixture
async def world(db: Database, fleet: dict[str, Any]) -> World:
    made: World = await world_maker(db, fleet)()
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true, cwe_id = 284 WHERE id = :c"),
            {"c": made.case_id},
        )
        await session.commit()
    return made


def _client(db: Database, settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def comms(db: Database, make_user: MakeUser) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))


async def _notify(client: httpx.AsyncClient, headers: dict[str, str], case_id: int) -> None:
    url = f"/api/cases/{case_id}/advisory"
    await client.put(url, json=draft(action_required=True, action_steps="Rotate."), headers=headers)
    await client.post(f"{url}/approve", headers=headers)
    assert (await client.post(f"{url}/send", headers=headers)).status_code == 200


async def test_reserve_and_publish_through_cve_services(
    db: Database,
    settings: Settings,
    world: World,
    comms: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    double, url = cve_services
    base = f"/api/cases/{world.case_id}/disclosure"
    ours = settings.model_copy(update={"cna_org_id": ORG, "cve_services_url": url})
    async with _client(db, ours) as client:
        missing = await client.post(f"{base}/reserve-cve", headers=comms)
        assert missing.status_code == 422 and "VULNOPS_CVE_SERVICES_USER" in missing.text
        dry = (await client.post(f"{base}/reserve-cve?dry_run=true", headers=comms)).json()
        assert dry["dry_run"] and dry["request"]["url"] == f"{url}cve-id"
        assert (await client.get(base, headers=comms)).json()["cve_id"] is None
    ours = ours.model_copy(
        update={"cve_services_user": "cna@example.com", "cve_services_api_key": SecretStr("k-123")}
    )
    async with _client(db, ours) as client:
        reserved = await client.post(f"{base}/reserve-cve", headers=comms)
        assert reserved.status_code == 200, reserved.text
        cve_id = reserved.json()["cve_id"]
        assert cve_id == f"CVE-{datetime.now(UTC).year}-1000"
        assert double.headers[0]["cve-api-key"] == "k-123"
        assert double.reservations[0]["short_name"] == "vulnops"
        again = await client.post(f"{base}/reserve-cve", headers=comms)
        assert again.status_code == 409

        early = await client.post(f"{base}/publish-cve", headers=comms)
        assert early.status_code == 409 and "notified" in early.json()["detail"]
        await _notify(client, comms, world.case_id)

        double.fail_publish = True
        refused = await client.post(f"{base}/publish-cve", headers=comms)
        assert refused.status_code == 502
        assert "HTTP 400" in refused.json()["detail"] and "BAD_INPUT" in refused.json()["detail"]
        assert (await client.get(base, headers=comms)).json()["cve_published_at"] is None

        double.fail_publish = False
        published = await client.post(f"{base}/publish-cve", headers=comms)
        assert published.status_code == 200, published.text
        container = double.published[cve_id]
        assert container["tags"] == ["exclusively-hosted-service"]
        assert container["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-284"
        shown = (await client.get(base, headers=comms)).json()
        assert shown["cve_published_at"] is not None and shown["cve_id"] == cve_id
        no_cve = await client.put(f"{base}/no-cve", json={"reason": "x"}, headers=comms)
        assert no_cve.status_code == 409
        record = await client.get(f"/api/cases/{world.case_id}/cve-record", headers=comms)
        assert record.json()["record"]["cveMetadata"]["cveId"] == cve_id


async def test_no_cve_with_a_reason_wins_over_the_policy(
    db: Database, settings: Settings, world: World, comms: dict[str, str]
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, settings) as client:
        assert (await client.get(base, headers=comms)).json()["cve"] is True
        marked = await client.put(
            f"{base}/no-cve", json={"reason": "only our own staff could reach it"}, headers=comms
        )
        assert marked.json()["cve"] is False
        assert marked.json()["reason"] == "marked as no CVE: only our own staff could reach it"
        refused = await client.post(f"{base}/reserve-cve?dry_run=true", headers=comms)
        assert refused.status_code == 409 and "no CVE" in refused.json()["detail"]
        cleared = await client.put(f"{base}/no-cve", json={"reason": None}, headers=comms)
        assert cleared.json()["cve"] is True


async def test_disclosure_waits_for_the_customers_and_refuses_a_past_date(
    db: Database,
    settings: Settings,
    world: World,
    comms: dict[str, str],
    make_user: MakeUser,
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    async with _client(db, settings) as client:
        early = await client.post(base, json={}, headers=comms)
        assert early.status_code == 409 and "not been notified" in early.json()["detail"]
        not_admin = await client.post(base, json={"override_reason": "press"}, headers=comms)
        assert not_admin.status_code == 403
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        assert (
            await client.post(base, json={"public_from": past}, headers=admin)
        ).status_code == 422
        await _notify(client, comms, world.case_id)
        embargo = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        done = await client.post(base, json={"public_from": embargo}, headers=comms)
        assert done.status_code == 200, done.text
        assert done.json()["disclosed_at"] is not None
        assert done.json()["public_from"].startswith(embargo[:16])
        case = (await client.get(f"/api/cases/{world.case_id}", headers=comms)).json()
        assert case["state"] == "disclosed"
        twice = await client.post(base, json={}, headers=comms)
        assert twice.status_code == 409


async def test_an_admin_may_disclose_before_notification_with_a_reason(
    db: Database, settings: Settings, world: World, make_user: MakeUser
) -> None:
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, settings) as client:
        done = await client.post(
            base, json={"override_reason": "the researcher published it today"}, headers=admin
        )
        assert done.status_code == 200, done.text
    async with db.session() as session:
        kinds = set(await session.scalars(text("SELECT kind FROM audit_events")))
    assert {"advisory.notification_overridden", "disclosure.approved"} <= kinds
