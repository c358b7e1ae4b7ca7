"""The disclosure forms on the case page: what they change, and the errors they show."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from helpers import MakeUser, csrf, sign_in
from notify.notify_world import world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database


async def _flash(client: httpx.AsyncClient, case_id: int) -> str:
    page = await client.get(f"/cases/{case_id}")
    return page.text


async def test_the_case_page_marks_no_cve_refuses_what_it_must_and_discloses(
    client: httpx.AsyncClient, db: Database, fleet: dict[str, Any], make_user: MakeUser
) -> None:
    world = await world_maker(db, fleet)()
    comms = await make_user(Role.COMMUNICATIONS)
    await sign_in(client, comms.email)
    page = f"/cases/{world.case_id}"
    token = await csrf(client, page)
    assert "Disclosure operations" in (await client.get(page)).text

    await client.post(
        f"{page}/disclosure/no-cve", data={"reason": "internal only", "csrftoken": token}
    )
    shown = await _flash(client, world.case_id)
    assert "marked as no CVE: internal only" in shown
    await client.post(f"{page}/disclosure/no-cve", data={"reason": "", "csrftoken": token})
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true WHERE id = :c"),
            {"c": world.case_id},
        )
        await session.commit()
    await client.post(f"{page}/disclosure/reserve-cve", data={"csrftoken": token})
    assert "VULNOPS_CVE_SERVICES_USER" in await _flash(client, world.case_id)
    await client.post(
        f"{page}/disclosure/disclose", data={"public_from": "2020-01-01T00:00", "csrftoken": token}
    )
    assert "is in the past" in await _flash(client, world.case_id)
    await client.post(f"{page}/disclosure/disclose", data={"csrftoken": token})
    assert "not been notified" in await _flash(client, world.case_id)

    client.cookies.clear()
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    token = await csrf(client, page)
    await client.post(
        f"{page}/disclosure/disclose",
        data={"override_reason": "already public", "csrftoken": token},
    )
    shown = await _flash(client, world.case_id)
    assert "Disclosure approved." in shown and "public from" in shown
    async with db.session() as session:
        state = await session.scalar(
            text("SELECT state FROM cases WHERE id = :c"), {"c": world.case_id}
        )
    assert state == "disclosed"
