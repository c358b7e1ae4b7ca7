"""A sent advisory withdrawn: kept for its tenants, marked withdrawn with the reason; nothing
more is sent, and its conversations close — a question or an answer after that is refused
saying why, with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from notify_world import World, sent_advisory
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.notify import deliveries


async def _count(db: Database, sql: str) -> int:
    async with db.session() as session:
        return int(await session.scalar(text(sql)) or 0)


async def test_a_withdrawn_advisory_closes_its_conversations_and_sends_nothing_more(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    url = f"/api/cases/{world.case_id}/advisory"
    advisory = await sent_advisory(
        client, comms, world, approver, action_required=True, action_steps="Rotate the keys."
    )
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    asked = await client.post(
        f"/api/advisories/{advisory}/messages", json={"body": "Is it fixed?"}, headers=acme
    )
    assert asked.status_code == 201, asked.text
    assert (
        await _count(
            db, "SELECT count(*) FROM advisory_conversations WHERE waiting_since IS NOT NULL"
        )
        == 1
    )

    # Bad input and the wrong person first: nothing changes.
    assert (
        await client.post(f"{url}/withdraw", json={"reason": ""}, headers=comms)
    ).status_code == 422
    refused = await client.post(
        f"{url}/withdraw", json={"reason": "sent in error"}, headers=engineer
    )
    assert refused.status_code == 403

    waiting = await _count(
        db, "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'retrying')"
    )
    assert waiting > 0
    withdrawn = await client.post(
        f"{url}/withdraw", json={"reason": "sent to the wrong tenants"}, headers=comms
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["cancelled"] == waiting  # the messages not yet delivered
    assert (
        await _count(db, "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'retrying')")
        == 0
    )
    # The question waiting no longer counts against the team.
    assert (
        await _count(
            db, "SELECT count(*) FROM advisory_conversations WHERE waiting_since IS NOT NULL"
        )
        == 0
    )
    again = await client.post(f"{url}/withdraw", json={"reason": "twice"}, headers=comms)
    assert again.status_code == 409 and "was withdrawn" in again.text

    # A reply on it, from either side, is refused saying why; nothing is written.
    for response in (
        await client.post(
            f"/api/advisories/{advisory}/messages", json={"body": "Still there?"}, headers=acme
        ),
        await client.post(
            f"{url}/conversations/{world.tenant_ids['acme']}",
            json={"body": "Yes."},
            headers=comms,
        ),
    ):
        assert response.status_code == 409, response.text
        assert "was withdrawn" in response.json()["detail"]
        assert "sent to the wrong tenants" in response.json()["detail"]
    assert await _count(db, "SELECT count(*) FROM advisory_messages") == 1
    # No new version either.
    drafted = await client.put(
        url,
        json={
            "title": "Another version",
            "summary": "It was not one.",
            "exposed_since": datetime.now(UTC).isoformat(),
        },
        headers=comms,
    )
    assert drafted.status_code == 409 and "was withdrawn" in drafted.text

    # The tenant still reads it, marked withdrawn, with the reason and no form to ask.
    shown = (await client.get(f"/api/advisories/{advisory}", headers=acme)).json()
    assert shown["withdrawn"]["reason"] == "sent to the wrong tenants"
    page = (await client.get(f"/advisories/{advisory}", headers=acme)).text
    assert 'data-testid="withdrawn"' in page and 'data-testid="ask"' not in page
    staff = (await client.get(url, headers=comms)).json()
    assert staff["withdrawn"]["by"] and staff["withdrawn"]["reason"] == "sent to the wrong tenants"

    # No reminder follows, however long they wait.
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE deliveries SET status = 'delivered', "
                "delivered_at = now() - interval '9 days'"
            )
        )
        scheduled = await deliveries.schedule_reminders(
            session, now=datetime.now(UTC), every=timedelta(days=1), most=3
        )
        assert scheduled == 0
