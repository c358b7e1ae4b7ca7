"""What the notification tests share: a small world (tenants with every kind of contact and
resources on the storage units, a mitigated case with its blast radius), an advisory draft, and
a real webhook receiver. The fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook, WebhookVerificationError

from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.fleet import blast, importer
from vulnops.settings import Settings
from vulnops.tenants import service as tenants

# key, emails, webhook ("RECEIVER" is replaced by the test's receiver), resources on storage
TENANTS = (
    ("acme", "security@acme.test", "RECEIVER", 3),
    ("globex", "ops@globex.test;sec@globex.test", "", 2),
    ("initech", "", "RECEIVER", 1),
    ("umbrella", "", "", 2),  # no contact at all: undeliverable, not an error
    ("hooli", "sec@hooli.test", "", 0),  # no resource on the affected units: not told
)


async def _chunks(text: str) -> AsyncIterator[bytes]:
    yield text.encode()


@dataclass
class World:
    case_id: int
    tenant_ids: dict[str, int]
    webhook_url: str


def world_maker(db: Database, fleet: dict[str, Any], settings: Settings) -> Any:
    """Import the tenants above with resources on storage units (one per unit, round robin)
    and open a storage case, mitigated without a deployment, whose blast radius holds them."""

    async def make(webhook_url: str = "https://hooks.example.com/vulnops") -> World:
        units = [u for u in fleet["units"] if u["service"] == "storage"]
        other = next(u for u in fleet["units"] if u["service"] == "compute")
        tenant_rows = ["key,name,security_emails,webhook_url"]
        resource_rows = ["tenant,service,region,scale_unit,resource_id,tags"]
        for key, emails, webhook, count in TENANTS:
            url = webhook_url if webhook == "RECEIVER" else webhook
            tenant_rows.append(f"{key},{key.title()} Corp,{emails},{url}")
            for index in range(count):
                unit = units[index % len(units)]
                resource_rows.append(
                    f"{key},storage,{unit['region']},{unit['scale_unit']},{key}-bucket-{index},"
                )
            if count == 0:
                unit = other
                resource_rows.append(
                    f"{key},compute,{unit['region']},{unit['scale_unit']},{key}-vm,"
                )
        async with db.session() as session:
            await importer.import_bundle(
                session,
                actor="test",
                tenants=(_chunks("\n".join(tenant_rows) + "\n"), "tenants.csv"),
                resources=(_chunks("\n".join(resource_rows) + "\n"), "resources.csv"),
            )
            now = datetime.now(UTC)
            case = await cases.open_case(
                session,
                title="Bucket policy bypass in storage",
                summary="A crafted request could read another tenant's bucket metadata.",
                services=["storage"],
                actor="test",
                settings=settings,
                now=now,
            )
            await cases.transition(
                session,
                case_id=case.id,
                target=CaseState.MITIGATED,
                reason="a configuration change closed it",
                actor="test",
                now=now,
                settings=settings,
            )
            await blast.compute(
                session,
                case_id=case.id,
                criteria=blast.BlastCriteria(services=["storage"]),
                actor="test",
            )
            ids = {
                key: (await tenants.get_tenant_by_key(session, key=key)).id for key, *_ in TENANTS
            }
            await session.commit()
        return World(case_id=case.id, tenant_ids=ids, webhook_url=webhook_url)

    return make


def draft(**changes: Any) -> dict[str, Any]:
    """An advisory draft as the API takes it."""
    return {
        "title": "Bucket metadata could be read across tenants",
        "summary": "Between the dates below a crafted request could list another tenant's "
        "bucket names. We found no sign that it was used.",
        "exposed_since": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "action_required": False,
        **changes,
    }


async def sent_advisory(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    world: World,
    approver: dict[str, str],
    **changes: Any,
) -> int:
    """Drafted and sent by ``headers``, approved by ``approver`` (four eyes)."""
    url = f"/api/cases/{world.case_id}/advisory"
    assert (await client.put(url, json=draft(**changes), headers=headers)).status_code == 200
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    assert (await client.post(f"{url}/send", headers=headers)).status_code == 200
    advisory: int = (await client.get(url, headers=headers)).json()["id"]
    return advisory


@dataclass
class Receiver:
    """A customer's webhook endpoint: verifies every signature with ``standardwebhooks``,
    answers with the next status of ``script`` (then 200), and processes a message id once."""

    secrets: dict[str, str] = field(default_factory=dict)  # tenant key -> secret
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    bad_signatures: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            headers = dict(request.headers)
            tenant = json.loads(body)["data"]["tenant"]
            self.requests.append({"headers": headers, "body": body})
            try:
                payload = Webhook(self.secrets[tenant]).verify(body, headers)
            except (WebhookVerificationError, KeyError):
                self.bad_signatures += 1
                return JSONResponse({"error": "bad signature"}, status_code=401)
            if self.delay:
                await asyncio.sleep(self.delay)
            status = self.script.pop(0) if self.script else 200
            if status == 200:
                self.accepted.append(headers["webhook-id"])
                self.processed.setdefault(headers["webhook-id"], payload)
            return JSONResponse({}, status_code=status)

        return app
