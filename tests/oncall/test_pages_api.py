"""The on-call over HTTP and the command line: who is on call, import and export, the pages
listed, acknowledged and resolved, and the emailed link's page (a GET changes nothing)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from sqlalchemy import text

from helpers import MakeUser, acli, api_token, bearer, csrf
from oncall.oncall_world import ONCALL
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.oncall import engine, paging
from vulnops.settings import Settings

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)


async def _page(db: Database, settings: Settings, key: str = "alert:disk") -> int:
    async with db.session() as session:
        raised = await paging.raise_page(
            session,
            dedup_key=key,
            title="Disk full on db-7",
            urgency="high",
            source="alert",
            services=[],
            actor="t",
            now=datetime.now(UTC),
            settings=settings,
        )
        await session.commit()
    return raised.page.id


async def test_who_import_and_export_over_http(
    client: httpx.AsyncClient,
    db: Database,
    oncall: None,
    make_user: MakeUser,
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    answer = await client.get(
        "/api/oncall/schedules/primary/who",
        params={"at": "2027-03-10T03:00:00+01:00"},
        headers=staff,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"] == "bob@example.com" and answer.json()["warnings"] == []
    naive = await client.get(
        "/api/oncall/schedules/primary/who", params={"at": "2027-03-10T03:00:00"}, headers=staff
    )
    assert naive.status_code == 422 and "offset" in naive.json()["detail"]
    exported = await client.get("/api/oncall/export", headers=staff)
    assert yaml.safe_load(exported.text)["escalation_policies"][0]["key"] == "security"
    refused = await client.post("/api/oncall/import", content=exported.text, headers=staff)
    assert refused.status_code == 403  # engineers read the on-call; responders manage it
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    broken = exported.text.replace("Europe/Paris", "Europe/Nowhere")
    bad = await client.post("/api/oncall/import", content=broken, headers=responder)
    assert bad.status_code == 422 and "not an IANA time zone" in bad.json()["detail"]
    again = await client.post("/api/oncall/import", content=exported.text, headers=responder)
    assert again.status_code == 200 and again.json()["schedules"] == 1


async def test_pages_are_listed_acknowledged_and_resolved_over_http(
    client: httpx.AsyncClient,
    db: Database,
    oncall: None,
    make_user: MakeUser,
    settings: Settings,
) -> None:
    page_id = await _page(db, settings)
    communications = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    listed = await client.get("/api/pages", headers=communications)
    assert [item["id"] for item in listed.json()["items"]] == [page_id]
    denied = await client.post(f"/api/pages/{page_id}/acknowledge", headers=communications)
    assert denied.status_code == 403
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    acked = await client.post(f"/api/pages/{page_id}/acknowledge", headers=engineer)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    resolved = await client.post(f"/api/pages/{page_id}/resolve", headers=engineer)
    assert resolved.json()["status"] == "resolved"
    assert (await client.get("/api/pages", headers=engineer)).json()["items"] == []
    every = await client.get("/api/pages", params={"open": "false"}, headers=engineer)
    assert [item["status"] for item in every.json()["items"]] == ["resolved"]
    late = await client.post(f"/api/pages/{page_id}/acknowledge", headers=engineer)
    assert late.status_code == 409
    missing = await client.post("/api/pages/987654/resolve", headers=engineer)
    assert missing.status_code == 404


async def test_the_emailed_link_asks_before_it_acknowledges(
    client: httpx.AsyncClient,
    db: Database,
    oncall: None,
    settings: Settings,
) -> None:
    page_id = await _page(db, settings)
    async with db.session() as session:
        await engine.escalate(session, page_id=page_id, step=0, loop=0, now=NOW, settings=settings)
        await session.commit()
        notification = await session.scalar(text("SELECT id FROM page_notifications"))
    token = paging.ack_token(settings, int(notification or 0))
    shown = await client.get("/pages/ack", params={"token": token})
    assert shown.status_code == 200 and 'name="token"' in shown.text
    async with db.session() as session:
        status = await session.scalar(text("SELECT status FROM pages"))
    assert status == "triggered"  # opening the link (a mail scanner) acknowledges nothing
    form = {"token": token, "csrftoken": await csrf(client, f"/pages/ack?token={token}")}
    done = await client.post("/pages/ack", data=form)
    assert done.status_code == 200 and 'data-testid="acknowledged"' in done.text
    twice = await client.post("/pages/ack", data=form)
    assert twice.status_code == 409 and "used already" in twice.text


async def test_the_command_lists_acknowledges_and_resolves(
    db: Database,
    oncall: None,
    conninfo: str,
    tmp_path: Path,
    settings: Settings,
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    page_id = await _page(db, settings)
    listed = await acli("page", "list", "--json", env=env)
    assert [row["id"] for row in json.loads(listed.stdout)] == [page_id]
    acked = await acli("page", "ack", str(page_id), "--as", "alice@example.com", env=env)
    assert acked.exit_code == 0 and "acknowledged" in acked.stdout
    resolved = await acli("page", "resolve", str(page_id), env=env)
    assert resolved.exit_code == 0 and "resolved" in resolved.stdout
    async with db.session() as session:
        by = await session.scalar(text("SELECT acknowledged_by FROM pages"))
    assert by == "alice@example.com"
    assert ONCALL["schedules"]  # the fixture's document is the one imported


async def test_the_home_page_says_who_is_on_call_to_staff_only(
    client: httpx.AsyncClient, db: Database, oncall: None, make_user: MakeUser
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    home = await client.get("/", headers=staff)
    assert 'data-testid="on-call-now"' in home.text
    assert re.search(r"<strong>(alice|bob)@example\.com</strong> until", home.text)
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    assert 'data-testid="on-call-now"' not in (await client.get("/", headers=researcher)).text
