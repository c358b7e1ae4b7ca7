"""Drafting, approving and sending an advisory through the API, and what refuses it."""

from __future__ import annotations

from typing import Any

import httpx
from notify_world import World, draft
from sqlalchemy import func, select, text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.notify.models import Delivery
from vulnops.settings import Settings
from vulnops.web.app import create_app


async def _headers(db: Database, make_user: MakeUser, role: Role) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(role)))


async def _deliveries(db: Database) -> dict[tuple[str, str, str], int]:
    """(tenant key, channel, status) -> count."""
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT t.key, d.channel, d.status, count(*) FROM deliveries d "
                "JOIN tenants t ON t.id = d.tenant_id GROUP BY 1, 2, 3"
            )
        )
        return {(key, channel, status): n for key, channel, status, n in rows.all()}


async def test_responder_drafts_communications_approves_and_the_audience_is_the_blast_radius(
    mail_client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    client = mail_client  # an installation that sends email
    world: World = await make_world()
    responder = await _headers(db, make_user, Role.RESPONDER)
    communications = await _headers(db, make_user, Role.COMMUNICATIONS)
    url = f"/api/cases/{world.case_id}/advisory"

    saved = await client.put(url, json=draft(), headers=responder)
    assert saved.status_code == 200, saved.text
    assert saved.json()["number"] == 1 and saved.json()["status"] == "draft"
    # Nothing is sent without a communications approval.
    refused = await client.post(f"{url}/send", headers=responder)
    assert refused.status_code == 409 and "approve" in refused.json()["detail"]
    assert (await client.post(f"{url}/approve", headers=responder)).status_code == 403

    approved = await client.post(f"{url}/approve", headers=communications)
    assert approved.json()["status"] == "approved", approved.text
    sent = await client.post(f"{url}/send", headers=responder)
    assert sent.status_code == 200, sent.text
    assert sent.json()["recipients"] == 4  # hooli has no resource on storage

    found = await _deliveries(db)
    assert found == {
        ("acme", "email", "pending"): 1,
        ("acme", "webhook", "pending"): 1,
        ("globex", "email", "pending"): 1,
        ("initech", "webhook", "pending"): 1,
        ("umbrella", "email", "undeliverable"): 1,
    }
    async with db.session() as session:
        case = await session.get(Case, world.case_id)
        assert case is not None and case.state == "notified"

    shown = (await client.get(url, headers=communications)).json()
    assert shown["recipients"] == 4
    version = shown["versions"][0]
    assert version["status"] == "sent" and version["approved_by"] != version["sent_by"]
    assert version["channels"] == {
        "portal": {"delivered": 4},
        "email": {"pending": 2, "undeliverable": 1},
        "webhook": {"pending": 2},
    }
    assert version["acknowledged"] == 0

    # An update is a new version to the same audience, even when the blast radius changed.
    async with db.session() as session:
        await session.execute(
            text("DELETE FROM blast_tenants WHERE case_id = :c"), {"c": world.case_id}
        )
        await session.commit()
    assert (
        await client.put(url, json=draft(title="Update: fixed everywhere"), headers=responder)
    ).json()["number"] == 2
    await client.post(f"{url}/approve", headers=communications)
    second = await client.post(f"{url}/send", headers=responder)
    assert second.json() == {
        "version": 2,
        "recipients": 4,
        "deliveries": 5,
        "languages": {"": 4},
    }


async def test_a_template_that_does_not_render_is_refused_and_nothing_is_sent(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    communications = await _headers(db, make_user, Role.COMMUNICATIONS)
    approver = await _headers(db, make_user, Role.COMMUNICATIONS)
    url = f"/api/cases/{world.case_id}/advisory"

    broken = await client.put(
        url, json=draft(body="Hello {{ tenant.nmae }}"), headers=communications
    )
    assert broken.status_code == 422
    assert "body" in broken.json()["detail"] and "nmae" in broken.json()["detail"]
    syntax = await client.put(url, json=draft(body="line one\n{% if %}"), headers=communications)
    assert syntax.status_code == 422 and "line 2" in syntax.json()["detail"]
    sandboxed = await client.put(
        url, json=draft(body="{{ tenant.__class__.__mro__ }}"), headers=communications
    )
    assert sandboxed.status_code == 422

    # Renders for the sample tenant, fails for a real one: refused at send, nothing written.
    tricky = "{% if tenant.key != 'example' %}{{ missing_name }}{% endif %}"
    assert (
        await client.put(url, json=draft(body=tricky), headers=communications)
    ).status_code == 200
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    refused = await client.post(f"{url}/send", headers=communications)
    assert refused.status_code == 422
    assert "nothing was sent" in refused.json()["detail"]
    assert "missing_name" in refused.json()["detail"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        recipients = await session.scalar(text("SELECT count(*) FROM advisory_recipients"))
        assert recipients == 0
    shown = (await client.get(url, headers=communications)).json()
    assert shown["versions"][0]["status"] == "approved"


async def test_bad_drafts_and_sends_are_refused_with_what_is_wrong(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    communications = await _headers(db, make_user, Role.COMMUNICATIONS)
    approver = await _headers(db, make_user, Role.COMMUNICATIONS)
    url = f"/api/cases/{world.case_id}/advisory"
    no_steps = await client.put(url, json=draft(action_required=True), headers=communications)
    assert no_steps.status_code == 422 and "action_steps" in no_steps.json()["detail"]
    short = await client.put(url, json=draft(title="x"), headers=communications)
    assert short.status_code == 422
    assert (await client.post(f"{url}/approve", headers=communications)).status_code == 404
    assert (
        await client.get("/api/cases/987654/advisory", headers=communications)
    ).status_code == 404
    assert (
        await client.put("/api/cases/987654/advisory", json=draft(), headers=communications)
    ).status_code == 404

    # Without a blast radius there is no audience.
    async with db.session() as session:
        await session.execute(
            text("DELETE FROM blast_radii WHERE case_id = :c"), {"c": world.case_id}
        )
        await session.commit()
    await client.put(url, json=draft(), headers=communications)
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    again = await client.post(f"{url}/approve", headers=approver)
    assert again.status_code == 409 and "approved" in again.json()["detail"]
    refused = await client.post(f"{url}/send", headers=communications)
    assert refused.status_code == 409 and "blast radius" in refused.json()["detail"]


async def test_the_author_of_a_draft_cannot_approve_it_unless_four_eyes_is_off(
    db: Database, settings: Settings, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    writer, reviewer = await make_user(Role.COMMUNICATIONS), await make_user(Role.COMMUNICATIONS)
    other = bearer(await api_token(db, reviewer))
    mine = bearer(await api_token(db, writer))
    url = f"/api/cases/{world.case_id}/advisory"
    async with _client(db, settings) as client:
        await client.put(url, json=draft(), headers=mine)
        own = await client.post(f"{url}/approve", headers=mine)
        assert own.status_code == 403
        assert "four eyes" in own.json()["detail"] and own.json()["rule"] == "four_eyes"
        no_comment = await client.post(f"{url}/reject", json={}, headers=other)
        assert no_comment.status_code == 422
        rejected = await client.post(
            f"{url}/reject", json={"comment": "Say which regions."}, headers=other
        )
        assert rejected.json()["status"] == "draft"
        # Rewritten by the one who sent it back, it is partly theirs now: neither may approve.
        await client.put(url, json=draft(title="Which regions"), headers=other)
        both = await client.post(f"{url}/approve", headers=other)
        assert both.status_code == 403 and "four eyes" in both.json()["detail"]
        third = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
        await client.post(f"{url}/reject", json={"comment": "Name the regions."}, headers=third)
        # Rewritten again, it waits for approval; the third person approves it.
        await client.put(url, json=draft(title="Which regions were exposed"), headers=mine)
        approved = await client.post(f"{url}/approve", json={"comment": "ok"}, headers=third)
        assert approved.json()["status"] == "approved"
        sent = await client.post(f"{url}/send", headers=mine)
        assert sent.status_code == 200
        pending = await client.get("/api/approvals", headers=other)
        assert pending.json()["total"] == 0
        decided = (await client.get("/api/approvals?status=approved", headers=other)).json()
        assert [set(a["authors"]) for a in decided["items"]] == [{writer.email, reviewer.email}]
    # A single-person installation lets the author approve; the approval says so.
    alone = settings.model_copy(update={"four_eyes": []})
    async with _client(db, alone) as client:
        await client.put(url, json=draft(title="Update"), headers=mine)
        assert (await client.post(f"{url}/approve", headers=mine)).status_code == 200
        page = await client.get("/approvals?status=approved", headers=mine)
        assert "lets one person approve their own advisory version" in page.text
        assert "by its author" in page.text
    async with db.session() as session:
        single = await session.scalar(
            text("SELECT single_person FROM approvals ORDER BY id DESC LIMIT 1")
        )
        kinds = list(await session.scalars(text("SELECT kind FROM audit_events ORDER BY seq")))
    assert single is True
    assert kinds.count("approval.requested") == 4 and kinds.count("approval.rejected") == 2


def _client(db: Database, settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, database=db)),
        base_url="http://testserver",
    )


async def test_a_template_over_the_sandbox_bounds_is_refused_when_saved(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    communications = await _headers(db, make_user, Role.COMMUNICATIONS)
    url = f"/api/cases/{world.case_id}/advisory"
    for body, bound in [
        ("{% for i in range(100000000) %}x{% endfor %}", "range() of more than 10,000 numbers"),
        ("{{ 'a' * 100000000 }}", "VULNOPS_TEMPLATE_MAX_OUTPUT_BYTES"),
        (
            "{% for a in resources %}{% for b in range(10000) %}{% for c in range(10000) %}"
            "{% endfor %}{% endfor %}{% endfor %}",
            "VULNOPS_TEMPLATE_MAX_RENDER_SECONDS",
        ),
        ("{{ 1 / 0 }}", "division by zero"),
    ]:
        refused = await client.put(url, json=draft(body=body), headers=communications)
        assert refused.status_code == 422, (body, refused.text)
        detail = refused.json()["detail"]
        assert detail.startswith("body: the template does not render") and bound in detail
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM advisory_versions")) == 0


async def test_a_template_that_outgrows_the_bound_for_a_real_tenant_is_refused_at_send(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    make_world: Any,
) -> None:
    """1,000 bytes per resource: the made-up tenant (one resource) fits, acme (three) not."""
    settings.template_max_output_bytes = 2500
    world: World = await make_world()
    communications = await _headers(db, make_user, Role.COMMUNICATIONS)
    approver = await _headers(db, make_user, Role.COMMUNICATIONS)
    url = f"/api/cases/{world.case_id}/advisory"
    body = "{% for r in resources %}{{ 'x' * 1000 }}{% endfor %}"
    saved = await client.put(url, json=draft(body=body), headers=communications)
    assert saved.status_code == 200, saved.text
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    preview = await client.get(f"{url}/preview", params={"tenant": "acme"}, headers=approver)
    assert preview.status_code == 422
    assert "renders more than 2,500 bytes" in preview.json()["detail"]
    refused = await client.post(f"{url}/send", headers=communications)
    assert refused.status_code == 422
    assert "nothing was sent" in refused.json()["detail"]
    assert "renders more than 2,500 bytes" in refused.json()["detail"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
