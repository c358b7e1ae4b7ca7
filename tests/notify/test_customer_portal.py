"""The customer's portal: a tenant sees, acknowledges and rates only its own advisories."""

from __future__ import annotations

import re
from typing import Any

import httpx
from notify_world import World, sent_advisory

from helpers import MakeUser, api_token, bearer, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


async def test_a_customer_reads_acknowledges_and_rates_only_their_own_advisory(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(
        client,
        comms,
        world,
        approver,
        action_required=True,
        action_steps="Rotate the bucket keys.",
    )
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    hooli = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="hooli")))

    listed = (await client.get("/api/advisories", headers=acme)).json()
    assert [a["id"] for a in listed["items"]] == [advisory]
    assert listed["items"][0]["acknowledged_at"] is None
    shown = (await client.get(f"/api/advisories/{advisory}", headers=acme)).json()
    text = shown["versions"][0]["text"]
    assert shown["tlp"] == "TLP:AMBER" and "Acme Corp" in text
    # acme's three buckets with their exposure; nobody else's resources.
    assert all(f"acme-bucket-{i}" in text for i in range(3))
    assert "globex" not in text and "Rotate the bucket keys." in text
    assert "still exposed" in text

    # Another tenant: the advisory does not exist for them, on every route.
    assert (await client.get("/api/advisories", headers=hooli)).json()["total"] == 0
    for method, path, body in (
        ("GET", f"/api/advisories/{advisory}", None),
        ("POST", f"/api/advisories/{advisory}/acknowledge", None),
        ("POST", f"/api/advisories/{advisory}/feedback", {"rating": 1}),
    ):
        response = await client.request(method, path, json=body, headers=hooli)
        assert response.status_code == 404, (path, response.text)

    ack = await client.post(f"/api/advisories/{advisory}/acknowledge", headers=acme)
    assert ack.json() == {"acknowledged_version": 1}
    assert (
        await client.post(f"/api/advisories/{advisory}/acknowledge", headers=acme)
    ).status_code == 200
    bad = await client.post(
        f"/api/advisories/{advisory}/feedback", json={"rating": 9}, headers=acme
    )
    assert bad.status_code == 422
    rated = await client.post(
        f"/api/advisories/{advisory}/feedback",
        json={"rating": 4, "comment": "Clear."},
        headers=acme,
    )
    assert rated.status_code == 200
    staff = (await client.get(f"/api/cases/{world.case_id}/advisory", headers=comms)).json()
    assert staff["versions"][0]["acknowledged"] == 1
    assert staff["feedback"] == {"count": 1, "average": 4.0}
    answers = (
        await client.get(f"/api/cases/{world.case_id}/advisory/feedback", headers=comms)
    ).json()
    assert [(a["tenant"], a["rating"], a["comment"]) for a in answers["items"]] == [
        ("acme", 4, "Clear.")
    ]

    # An update: the customer sees both versions, the new one not yet acknowledged.
    await sent_advisory(client, comms, world, approver, title="Update: the fix is everywhere")
    shown = (await client.get(f"/api/advisories/{advisory}", headers=acme)).json()
    assert [v["number"] for v in shown["versions"]] == [2, 1]
    assert shown["versions"][0]["acknowledged_at"] is None
    assert shown["versions"][1]["acknowledged_at"] is not None

    # The portal's dates on the tenant's clock, once it says which (UTC until then).
    assert " UTC" in (await client.get(f"/advisories/{advisory}", headers=acme)).text
    await client.put(
        "/api/tenant/preferences", json={"language": "fr", "time_zone": "Asia/Tokyo"}, headers=acme
    )
    page = (await client.get(f"/advisories/{advisory}", headers=acme)).text
    # … in French, as French writes dates ("8 déc. 2026 12:04 JST").
    assert re.search(r"envoyée le \d{1,2} \w+\.? \d{4} \d\d:\d\d JST à Acme Corp", page), page
    assert '<html lang="fr">' in page and "Accuser réception" in page
    listing = (await client.get("/advisories", headers=acme)).text
    assert " JST" in listing and " UTC" not in listing and "Avis de sécurité" in listing


async def test_portal_pages_hide_other_tenants_advisories(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(client, comms, world, approver)
    await make_user(Role.CUSTOMER, email="admin@hooli.test", tenant_key="hooli")
    await sign_in(client, "admin@hooli.test")
    assert (await client.get(f"/advisories/{advisory}")).status_code == 404
    listing = await client.get("/advisories")
    assert listing.status_code == 200 and "Bucket metadata" not in listing.text


async def test_a_customer_sets_their_webhook_and_rotates_its_secret(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    await make_world()
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    before = (await client.get("/api/tenant/webhook", headers=acme)).json()
    assert before["secret"].startswith("whsec_") and len(before["secret"]) > 40
    private = await client.put(
        "/api/tenant/webhook", json={"url": "http://10.0.0.8/hook"}, headers=acme
    )
    assert private.status_code == 422 and "private" in private.json()["detail"]
    loopback = await client.put(
        "/api/tenant/webhook", json={"url": "http://[::1]/hook"}, headers=acme
    )
    assert loopback.status_code == 422
    bad = await client.put("/api/tenant/webhook", json={"url": "ftp://x.example/"}, headers=acme)
    assert bad.status_code == 422 and "http(s)" in bad.json()["detail"]
    saved = await client.put(
        "/api/tenant/webhook", json={"url": "https://93.184.215.14/hook"}, headers=acme
    )
    assert saved.status_code == 200 and saved.json()["url"] == "https://93.184.215.14/hook"
    rotated = (await client.post("/api/tenant/webhook/rotate-secret", headers=acme)).json()
    assert rotated["secret"] != before["secret"] and rotated["secret"].startswith("whsec_")
    removed = await client.put("/api/tenant/webhook", json={"url": ""}, headers=acme)
    assert removed.json()["url"] == ""


async def test_a_sent_version_over_a_lowered_bound_is_shown_as_such_not_as_an_error(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    make_world: Any,
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(client, comms, world, approver)
    settings.template_max_output_bytes = 100  # lowered after the send
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    shown = await client.get(f"/api/advisories/{advisory}", headers=acme)
    assert shown.status_code == 200
    text = shown.json()["versions"][0]["text"]
    assert text.startswith("(This version cannot be shown: ")
    assert "at most 100 (VULNOPS_TEMPLATE_MAX_OUTPUT_BYTES)" in text
