"""The case page's public text and disclosure forms: what they refuse, and the two people each
step takes."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from helpers import MakeUser, csrf, sign_in
from notify.notify_world import world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


async def _as(client: httpx.AsyncClient, email: str, page: str) -> str:
    client.cookies.clear()
    await sign_in(client, email)
    return await csrf(client, page)


async def test_the_case_page_drafts_the_text_refuses_what_it_must_and_discloses(
    client: httpx.AsyncClient,
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    settings: Settings,
) -> None:
    world = await world_maker(db, fleet, settings)()
    comms, other, admin = (
        await make_user(Role.COMMUNICATIONS),
        await make_user(Role.COMMUNICATIONS),
        await make_user(Role.ADMIN),
    )
    case = f"/cases/{world.case_id}"
    page = f"{case}/disclosure"
    token = await _as(client, comms.email, page)
    shown = (await client.get(page)).text
    assert "Disclosure operations" in shown and "No approved public text" in shown

    await client.post(
        f"{case}/disclosure/no-cve", data={"reason": "internal only", "csrftoken": token}
    )
    assert "marked as no CVE: internal only" in (await client.get(page)).text
    await client.post(f"{case}/disclosure/no-cve", data={"reason": "", "csrftoken": token})
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true WHERE id = :c"),
            {"c": world.case_id},
        )
        await session.commit()
    await client.post(f"{case}/disclosure/reserve-cve", data={"csrftoken": token})
    assert "VULNOPS_CVE_SERVICES_USER" in (await client.get(page)).text

    # The public text: too short, then saved; its author cannot approve it.
    await client.post(f"{case}/public-text", data={"title": "x", "csrftoken": token})
    assert "title: String should have at least 3 characters" in (await client.get(page)).text
    fields = {"title": "Bucket names could be listed", "description": "A crafted request…"}
    await client.post(f"{case}/public-text", data={**fields, "csrftoken": token})
    shown = (await client.get(page)).text
    assert "waiting for approval" in shown and "Public text version 1 saved" in shown
    await client.post(f"{case}/public-text/approve", data={"csrftoken": token})
    assert "four eyes" in (await client.get(page)).text

    await client.post(
        f"{case}/disclosure/disclose", data={"public_from": "2020-01-01T00:00", "csrftoken": token}
    )
    assert "is in the past" in (await client.get(page)).text
    await client.post(f"{case}/disclosure/disclose", data={"csrftoken": token})
    shown = (await client.get(page)).text
    assert "not been notified" in shown and "reserve one now" in shown

    token = await _as(client, other.email, page)
    await client.post(f"{case}/public-text/approve", data={"csrftoken": token})
    shown = (await client.get(page)).text
    assert "Public text approved." in shown and "Bucket names could be listed" in shown

    token = await _as(client, admin.email, page)
    await client.post(
        f"{case}/disclosure/disclose",
        data={
            "override_reason": "already public",
            "cve_choice": "without",
            "without_cve_reason": "the researcher's own CVE covers it",
            "csrftoken": token,
        },
    )
    assert "waits for a second person" in (await client.get(page)).text
    await client.post(f"{case}/disclosure/approve", data={"csrftoken": token})
    assert "four eyes" in (await client.get(page)).text

    token = await _as(client, comms.email, page)
    await client.post(f"{case}/disclosure/approve", data={"csrftoken": token})
    shown = (await client.get(page)).text
    assert "Disclosure approved." in shown and "public since" in shown
    async with db.session() as session:
        state = await session.scalar(
            text("SELECT state FROM cases WHERE id = :c"), {"c": world.case_id}
        )
        overridden = await session.scalar(
            text("SELECT count(*) FROM audit_events WHERE kind = 'disclosure.rule_overridden'")
        )
    assert state == "disclosed" and overridden == 1
