"""Customers mark their affected resources checked or needing help: only their own resources
the advisory is about, the team sees each tenant's progress, and an advisory asking them to
act stops reminding a tenant once every one of its resources is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from notify_world import World, sent_advisory
from sqlalchemy import select, text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.fleet.models import Resource
from vulnops.notify import deliveries


async def _resource_ids(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return dict((await session.execute(select(Resource.external_id, Resource.id))).all())


async def test_marks_progress_and_the_reminders_they_stop(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(
        client, comms, world, approver, action_required=True, action_steps="Rotate keys."
    )
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    globex = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="globex")))
    ids = await _resource_ids(db)
    mine = f"/api/advisories/{advisory}/resources"

    listed = (await client.get(mine, headers=acme)).json()
    assert (listed["total"], listed["checked"], listed["needs_help"]) == (3, 0, 0)
    assert [r["external_id"] for r in listed["resources"]] == [f"acme-bucket-{i}" for i in range(3)]
    assert {r["status"] for r in listed["resources"]} == {None}

    checked = await client.put(
        f"{mine}/{ids['acme-bucket-0']}", json={"status": "checked"}, headers=acme
    )
    assert checked.status_code == 200 and checked.json()["checked"] == 1
    for body in ({"status": "done"}, {"status": "checked", "note": "x" * 2001}, {}):
        refused = await client.put(f"{mine}/{ids['acme-bucket-1']}", json=body, headers=acme)
        assert refused.status_code == 422, body
    # Another tenant's resource, one the advisory is not about, and from the other side: 404.
    for headers, resource in (
        (acme, "globex-bucket-0"),
        (acme, "hooli-vm"),
        (globex, "acme-bucket-1"),
    ):
        answer = await client.put(
            f"{mine}/{ids[resource]}", json={"status": "checked"}, headers=headers
        )
        assert answer.status_code == 404, resource
    # The portal's form.
    posted = await client.post(
        f"/advisories/{advisory}/resources/{ids['globex-bucket-1']}",
        data={"status": "needs_help", "note": "Which key?"},
        headers=globex,
    )
    assert posted.status_code == 303
    page = (await client.get(f"/advisories/{advisory}", headers=globex)).text
    assert "needs help" in page and "Which key?" in page

    progress = (
        await client.get(f"/api/cases/{world.case_id}/advisory/progress", headers=comms)
    ).json()["items"]
    # Asking for help first, then the most left to check.
    assert [(p["tenant_key"], p["checked"], p["needs_help"], p["unmarked"]) for p in progress][
        :2
    ] == [("globex", 0, 1, 1), ("acme", 1, 0, 2)]
    assert {p["tenant_key"] for p in progress} == {"acme", "globex", "initech", "umbrella"}

    # Every one of acme's resources checked: acme is no longer reminded (its webhook, the
    # channel that reached it here); initech, which marked nothing, still is.
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE deliveries SET status = 'delivered', "
                "delivered_at = now() - interval '100 hours' WHERE status <> 'undeliverable'"
            )
        )
        await session.commit()

    async def reminded() -> set[str]:
        async with db.session() as session:
            await deliveries.schedule_reminders(
                session, now=datetime.now(UTC), every=timedelta(hours=72), most=2
            )
            found = set(
                await session.scalars(
                    text(
                        "SELECT DISTINCT t.key FROM deliveries d "
                        "JOIN tenants t ON t.id = d.tenant_id WHERE d.reminder = 1"
                    )
                )
            )
            await session.rollback()
        return found

    assert await reminded() == {"acme", "initech"}  # one of acme's three checked: not enough
    for resource in ("acme-bucket-1", "acme-bucket-2"):
        await client.put(f"{mine}/{ids[resource]}", json={"status": "checked"}, headers=acme)
    assert await reminded() == {"initech"}
