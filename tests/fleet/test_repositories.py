"""A service's source repositories are part of the inventory: a topology that names them sets
them, the export carries them back, a topology that names none keeps them, the API and the
service page set them, and a path that is not absolute is refused wherever it comes from."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import Invalid
from vulnops.fleet import exporter, importer, repositories

TOPOLOGY = {
    "services": [
        {"key": "storage", "name": "Object Storage", "repositories": ["/src/storage/", "/src/x"]},
        {"key": "backup", "name": "Backup"},
    ],
    "regions": [{"key": "eu-west-1", "name": "EU West 1"}],
    "units": [],
}


async def _import(db: Database, document: dict[str, object]) -> None:
    async with db.session() as session:
        await importer.import_bundle(
            session, actor="test", topology=(json.dumps(document), "topology.json")
        )
        await session.commit()


async def test_a_topology_sets_them_and_the_export_carries_them(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    await _import(db, TOPOLOGY)
    async with db.session() as session:
        found = await repositories.of_services(session)
        exported = await exporter.topology(session)
    assert [(r.service, r.location) for r in found] == [
        ("storage", "/src/storage"),
        ("storage", "/src/x"),
    ]
    services = {s["key"]: s for s in exported["services"]}
    assert services["storage"]["repositories"] == ["/src/storage", "/src/x"]
    assert "repositories" not in services["backup"]
    again = {**TOPOLOGY, "services": [{"key": "storage", "name": "Object Storage"}]}
    await _import(db, again)  # names none: keeps them
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    kept = await client.get("/api/fleet/services/storage/repositories", headers=engineer)
    assert kept.json() == {"service": "storage", "locations": ["/src/storage", "/src/x"]}
    changed = await client.put(
        "/api/fleet/services/backup/repositories",
        json={"locations": ["/src/backup", "/src/backup/"]},
        headers=engineer,
    )
    assert changed.status_code == 200 and changed.json()["locations"] == ["/src/backup"]
    communications = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    denied = await client.put(
        "/api/fleet/services/backup/repositories", json={"locations": []}, headers=communications
    )
    assert denied.status_code == 403


async def test_a_path_that_is_not_absolute_is_refused(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    bad = {**TOPOLOGY, "services": [{"key": "storage", "name": "S", "repositories": ["src"]}]}
    async with db.session() as session:
        with pytest.raises(Invalid, match="'src' is not an absolute path"):
            await importer.import_bundle(session, actor="t", topology=(yaml.safe_dump(bad), "t"))
    await _import(db, TOPOLOGY)
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    refused = await client.put(
        "/api/fleet/services/storage/repositories",
        json={"locations": ["/ok", "relative/path"]},
        headers=engineer,
    )
    assert refused.status_code == 422 and "'relative/path' is not an absolute path" in refused.text
    kept = await client.get("/api/fleet/services/storage/repositories", headers=engineer)
    assert kept.json()["locations"] == ["/src/storage", "/src/x"]  # nothing half-written
