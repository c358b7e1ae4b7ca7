"""The notification pages through their forms: errors shown with the input kept, dead
deliveries resent, the customer's webhook settings."""

from __future__ import annotations

from typing import Any

import httpx
from notify_world import World, draft
from sqlalchemy import text

from helpers import MakeUser, csrf, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database


async def test_a_draft_with_a_broken_template_is_shown_again_with_the_error(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = await make_user(Role.COMMUNICATIONS)
    await sign_in(client, comms.email)
    page = f"/cases/{world.case_id}/advisory"
    token = await csrf(client, page)
    values = draft(body="{{ tenant.nmae }}")
    form = {**values, "exposed_since": values["exposed_since"][:16], "csrftoken": token}
    response = await client.post(page, data=form)
    assert response.status_code == 422
    assert "tenant.nmae" in response.text and "does not render" in response.text
    assert values["title"] in response.text  # what was typed is kept
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM advisory_versions")) == 0

    form["body"] = "Hello {{ tenant.name }}"
    saved = await client.post(page, data=form)
    assert saved.status_code == 303
    shown = await client.get(page)
    assert "Approve version 1" in shown.text and "Send version 1" not in shown.text


async def test_dead_deliveries_are_listed_and_resent_from_the_page(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    async with db.session() as session:
        for statement in (
            "INSERT INTO advisories (case_id, created_by) VALUES (:c, 'x')",
            "INSERT INTO advisory_versions (advisory_id, number, title, summary, body, "
            "action_required, exposed_since, status, created_by) "
            "VALUES (1, 1, 'T', 'S', 'B', false, now(), 'sent', 'x')",
            "INSERT INTO deliveries (version_id, tenant_id, channel, status, attempts, "
            "last_error) VALUES (1, :t, 'webhook', 'dead', 8, 'HTTP 503 (gave up)')",
        ):
            await session.execute(
                text(statement), {"c": world.case_id, "t": world.tenant_ids["acme"]}
            )
        await session.commit()
    engineer = await make_user(Role.ENGINEER)  # may read, may not resend
    await sign_in(client, engineer.email)
    listed = await client.get("/notifications/deliveries?status=dead")
    assert "HTTP 503 (gave up)" in listed.text and "Resend" not in listed.text
    token = await csrf(client, "/notifications/deliveries")
    refused = await client.post("/notifications/deliveries/1/resend", data={"csrftoken": token})
    assert refused.status_code == 403

    client.cookies.clear()
    comms = await make_user(Role.COMMUNICATIONS)
    await sign_in(client, comms.email)
    token = await csrf(client, "/notifications/deliveries?status=dead")
    resent = await client.post("/notifications/deliveries/1/resend", data={"csrftoken": token})
    assert resent.status_code == 303
    async with db.session() as session:
        row = (
            await session.execute(text("SELECT status, attempts FROM deliveries WHERE id = 1"))
        ).one()
        events = await session.scalar(
            text("SELECT actor FROM delivery_events WHERE delivery_id = 1")
        )
    assert tuple(row) == ("pending", 0) and events == comms.email
    again = await client.post("/notifications/deliveries/1/resend", data={"csrftoken": token})
    assert again.status_code == 303
    shown = await client.get("/notifications/deliveries?status=pending")
    assert "only a dead delivery is resent" in shown.text


async def test_the_customer_settings_page_saves_a_webhook_and_refuses_a_private_one(
    client: httpx.AsyncClient, make_user: MakeUser, make_world: Any
) -> None:
    await make_world()
    await make_user(Role.CUSTOMER, email="admin@acme.test", tenant_key="acme")
    await sign_in(client, "admin@acme.test")
    token = await csrf(client, "/advisories/settings")
    await client.post(
        "/advisories/settings/webhook", data={"url": "http://192.168.1.4/x", "csrftoken": token}
    )
    page = await client.get("/advisories/settings")
    assert "private, local or cloud-internal address" in page.text
    assert "security@acme.test" in page.text
    await client.post(
        "/advisories/settings/webhook",
        data={"url": "https://93.184.215.14/hook", "csrftoken": token},
    )
    page = await client.get("/advisories/settings")
    assert 'value="https://93.184.215.14/hook"' in page.text


async def test_a_translation_is_written_approved_and_removed_from_the_advisory_page(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    writer, approver = await make_user(Role.COMMUNICATIONS), await make_user(Role.COMMUNICATIONS)
    await sign_in(client, writer.email)
    page = f"/cases/{world.case_id}/advisory"
    token = await csrf(client, page)
    values = draft(body="Hello {{ tenant.name }}")
    form = {**values, "exposed_since": values["exposed_since"][:16], "csrftoken": token}
    assert (await client.post(page, data=form)).status_code == 303
    shown = await client.get(page)
    assert (
        "Translate version 1" in shown.text and "every tenant receives the original" in shown.text
    )

    form = {
        "language": "fr_FR",
        "title": "Les noms des compartiments pouvaient être listés",
        "summary": "Une requête forgée pouvait lister les compartiments.",
        "body": "{{ summary }}",
        "csrftoken": token,
    }
    refused = await client.post(f"{page}/translations", data=form, headers={"referer": page})
    assert refused.status_code == 303
    said = (await client.get(page)).text
    assert "is not a BCP 47 language tag" in said
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM advisory_translations")) == 0

    saved = await client.post(f"{page}/translations", data={**form, "language": "fr"})
    assert saved.status_code == 303
    listed = (await client.get(page)).text
    # Nobody of this audience reads French yet: saved, with a note.
    assert "fr translation saved" in listed and "no tenant of this advisory" in listed
    assert 'data-testid="translation-fr"' in listed and "Edit the fr translation" not in listed
    editing = (await client.get(f"{page}?translate=fr")).text
    assert "Edit the fr translation" in editing and "Une requête forgée" in editing

    client.cookies.clear()
    await sign_in(client, approver.email)
    token = await csrf(client, page)
    decided = await client.post(
        f"{page}/translations/fr/decide", data={"decision": "approve", "csrftoken": token}
    )
    assert decided.status_code == 303
    assert "The fr translation was approved." in (await client.get(page)).text
    removed = await client.post(f"{page}/translations/fr/remove", data={"csrftoken": token})
    assert removed.status_code == 303
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM advisory_translations")) == 0


async def test_a_sent_advisory_is_withdrawn_from_its_page(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    writer, approver = await make_user(Role.COMMUNICATIONS), await make_user(Role.COMMUNICATIONS)
    await sign_in(client, writer.email)
    page = f"/cases/{world.case_id}/advisory"
    token = await csrf(client, page)
    values = draft(body="Hello {{ tenant.name }}")
    form = {**values, "exposed_since": values["exposed_since"][:16], "csrftoken": token}
    await client.post(page, data=form)
    assert 'data-testid="withdraw"' not in (await client.get(page)).text  # nothing sent yet
    client.cookies.clear()
    await sign_in(client, approver.email)
    token = await csrf(client, page)
    await client.post(f"{page}/approve", data={"csrftoken": token})
    await client.post(f"{page}/send", data={"csrftoken": token})
    assert 'data-testid="withdraw"' in (await client.get(page)).text

    empty = await client.post(
        f"{page}/withdraw", data={"reason": " ", "csrftoken": token}, headers={"referer": page}
    )
    assert empty.status_code == 303
    assert "say why the advisory is withdrawn" in (await client.get(page)).text
    done = await client.post(f"{page}/withdraw", data={"reason": "wrong case", "csrftoken": token})
    assert done.status_code == 303
    shown = (await client.get(page)).text
    assert "Advisory withdrawn;" in shown and 'data-testid="withdrawn"' in shown
    assert 'data-testid="withdraw"' not in shown and 'data-testid="send"' not in shown
