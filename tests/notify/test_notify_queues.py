"""The notification sections of the work queue: a customer's advisories to acknowledge, and for
those who tell customers the versions not sent and the deliveries that died."""

from __future__ import annotations

from typing import Any

import httpx
from notify_world import World, draft
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database


def _sections(queue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in queue["sections"]}


async def test_the_queues_of_customers_and_communications(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    hooli = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="hooli")))
    url = f"/api/cases/{world.case_id}/advisory"

    assert (await client.put(url, json=draft(), headers=comms)).status_code == 200
    waiting = _sections((await client.get("/api/queue", headers=approver)).json())
    assert waiting["my_approvals"]["count"] == 1
    assert waiting["my_approvals"]["items"][0]["href"] == f"/cases/{world.case_id}/advisory"
    assert waiting["unsent_advisories"]["count"] == 1
    assert "waiting for approval" in waiting["unsent_advisories"]["items"][0]["detail"]
    # The author's own draft is not theirs to approve.
    assert (
        _sections((await client.get("/api/queue", headers=comms)).json())["my_approvals"]["count"]
        == 0
    )

    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    approved = _sections((await client.get("/api/queue", headers=comms)).json())
    assert approved["unsent_advisories"]["items"][0]["detail"].endswith("waiting to be sent")
    assert (await client.post(f"{url}/send", headers=comms)).status_code == 200
    advisory = (await client.get(url, headers=comms)).json()["id"]

    customer = _sections((await client.get("/api/queue", headers=acme)).json())
    assert list(customer) == ["unacknowledged"]
    assert customer["unacknowledged"]["count"] == 1
    assert customer["unacknowledged"]["items"][0]["href"] == f"/advisories/{advisory}"
    assert (
        _sections((await client.get("/api/queue", headers=hooli)).json())["unacknowledged"]["count"]
        == 0
    )  # not in its audience
    listed = await client.get("/api/advisories?unacknowledged=true", headers=acme)
    assert listed.json()["total"] == 1
    await client.post(f"/api/advisories/{advisory}/acknowledge", headers=acme)
    assert (
        _sections((await client.get("/api/queue", headers=acme)).json())["unacknowledged"]["count"]
        == 0
    )

    # Deliveries that gave up: counted and grouped by advisory.
    async with db.session() as session:
        dead = await session.scalar(
            text(
                "WITH d AS (UPDATE deliveries SET status = 'dead', last_error = 'HTTP 503' "
                "WHERE channel = 'email' RETURNING 1) SELECT count(*) FROM d"
            )
        )
        await session.commit()
    assert dead
    sections = _sections((await client.get("/api/queue", headers=comms)).json())
    assert sections["unsent_advisories"]["count"] == 0
    dead_section = sections["dead_deliveries"]
    assert dead_section["count"] == dead and dead_section["alarm"] is True
    [item] = dead_section["items"]
    assert item["title"].startswith(f"{dead} dead deliveries")
    assert item["detail"].endswith("HTTP 503")
    assert item["href"] == f"/notifications/deliveries?status=dead&advisory={advisory}"
