"""A case's blast radius, computed over a generated fleet and checked against the files."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.fleet import generator
from vulnops.fleet.models import BlastTenant, BlastUnit

SEED = 5


@pytest.fixture
async def fleet(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, tmp_path: Path
) -> dict[str, Any]:
    """A small generated fleet, imported; its files are the oracle for the expectations."""
    generator.write(tmp_path, seed=SEED, scale_name="small")
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    files = [
        ("topology", ("topology.yaml", (tmp_path / "topology.yaml").read_bytes())),
        ("tenants", ("tenants.csv", (tmp_path / "tenants.csv").read_bytes())),
        ("resources", ("resources.csv", (tmp_path / "resources.csv").read_bytes())),
        *[("sbom", (p.name, p.read_bytes())) for p in sorted((tmp_path / "sboms").iterdir())],
    ]
    assert (
        await client.post("/api/fleet/import", files=files, headers=engineer)
    ).status_code == 201
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    case = (await client.post("/api/cases", json={"title": "Blast test"}, headers=responder)).json()
    with (tmp_path / "resources.csv").open() as handle:
        resources = list(csv.DictReader(handle))
    return {
        "case": case,
        "headers": responder,
        "topology": generator.topology(SEED, "small"),
        "resources": resources,
    }


async def _compute(
    client: httpx.AsyncClient, fleet: dict[str, Any], **criteria: Any
) -> httpx.Response:
    return await client.put(
        f"/api/cases/{fleet['case']['id']}/blast-radius", json=criteria, headers=fleet["headers"]
    )


async def test_services_and_regions_select_units_tenants_and_resources(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    regions = ["eu-west-1", "eu-west-2"]
    response = await _compute(client, fleet, services=["storage"], regions=regions)
    assert response.status_code == 200, response.text
    body = response.json()
    units = [
        u
        for u in fleet["topology"]["units"]
        if u["service"] == "storage" and u["region"] in regions
    ]
    matching = [
        r for r in fleet["resources"] if r["service"] == "storage" and r["region"] in regions
    ]
    assert body["units"] == len(units)
    assert body["resources"] == len(matching)
    assert body["tenants"] == len({r["tenant"] for r in matching})
    by_region = {row["key"]: row for row in body["by_region"]}
    assert set(by_region) == set(regions)
    for region in regions:
        here = [r for r in matching if r["region"] == region]
        assert by_region[region]["resources"] == len(here)
        assert by_region[region]["tenants"] == len({r["tenant"] for r in here})
        assert by_region[region]["units"] == sum(1 for u in units if u["region"] == region)
    tenants = (
        await client.get(
            f"/api/cases/{fleet['case']['id']}/blast-radius/tenants", headers=fleet["headers"]
        )
    ).json()
    expected = Counter(r["tenant"] for r in matching)
    assert tenants["total"] == len(expected)
    top = tenants["items"][0]
    assert top["resources"] == max(expected.values())


async def test_a_component_range_selects_the_units_running_affected_versions(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    body = (
        await _compute(
            client,
            fleet,
            component={
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core",
                "range": "vers:maven/>=2.0.0|<2.17.1",
            },
        )
    ).json()
    # Only 2026.10.4 carries log4j-core 2.14.1; 2026.11.1 has 2.17.1, outside the range.
    old = [u for u in fleet["topology"]["units"] if u["version"] == "2026.10.4"]
    assert body["units"] == len(old) > 0
    assert {row["version"] for row in body["service_versions"]} == {"2026.10.4"}
    by_service = {row["key"]: row["units"] for row in body["by_service"]}
    assert by_service == dict(Counter(u["service"] for u in old))


async def test_criteria_that_match_nothing_give_an_empty_radius(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    response = await _compute(client, fleet, services=["storage"], versions=["1999.1.1"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["units"], body["tenants"], body["resources"]) == (0, 0, 0)
    assert body["by_region"] == [] and body["by_service"] == []


async def test_tags_narrow_the_resources(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    body = (
        await _compute(
            client, fleet, services=["compute"], tags_all=["tls=1.2"], tags_none=["private-link"]
        )
    ).json()
    matching = [
        r
        for r in fleet["resources"]
        if r["service"] == "compute"
        and "tls=1.2" in r["tags"].split(";")
        and "private-link" not in r["tags"].split(";")
    ]
    assert body["resources"] == len(matching)
    assert body["tenants"] == len({r["tenant"] for r in matching})


async def test_recomputing_replaces_the_previous_radius(
    client: httpx.AsyncClient, fleet: dict[str, Any], db: Database
) -> None:
    await _compute(client, fleet, services=["storage"])
    second = (await _compute(client, fleet, services=["identity"], regions=["eu-west-1"])).json()
    async with db.session() as session:
        units = await session.scalar(select(func.count()).select_from(BlastUnit))
        tenants = await session.scalar(select(func.count()).select_from(BlastTenant))
    assert (units, tenants) == (second["units"], second["tenants"])
    stored = (
        await client.get(f"/api/cases/{fleet['case']['id']}/blast-radius", headers=fleet["headers"])
    ).json()
    assert stored["criteria"]["services"] == ["identity"]
    events = (
        await client.get(f"/api/cases/{fleet['case']['id']}/events", headers=fleet["headers"])
    ).json()
    assert [e["kind"] for e in events["items"]].count("case.blast_radius_computed") == 2


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "give at least one"),
        ({"services": ["nope"]}, "services: unknown 'nope'"),
        ({"regions": ["mars-1"]}, "regions: unknown 'mars-1'"),
        ({"component": {"purl": "lodash", "range": None}}, "not a package URL"),
        ({"component": {"purl": "pkg:npm/lodash", "range": "vers:npm/<<1"}}, "not a valid vers"),
        ({"services": ["storage"], "colour": "red"}, "colour"),
    ],
)
async def test_bad_criteria_are_refused_and_change_nothing(
    client: httpx.AsyncClient, fleet: dict[str, Any], criteria: dict[str, Any], message: str
) -> None:
    response = await _compute(client, fleet, **criteria)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    missing = await client.get(
        f"/api/cases/{fleet['case']['id']}/blast-radius", headers=fleet["headers"]
    )
    assert missing.status_code == 404


async def test_the_case_page_shows_the_blast_radius(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    await _compute(client, fleet, services=["storage"])
    page = await client.get(f"/cases/{fleet['case']['id']}/blast-radius", headers=fleet["headers"])
    assert 'data-testid="blast-radius"' in page.text
    assert "eu-west-1" in page.text


async def test_the_affected_tenants_page_lists_them_most_affected_first(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    body = (await _compute(client, fleet, services=["storage"])).json()
    case_id = fleet["case"]["id"]
    case_page = await client.get(f"/cases/{case_id}/blast-radius", headers=fleet["headers"])
    assert f'href="/cases/{case_id}/tenants"' in case_page.text
    page = await client.get(f"/cases/{case_id}/tenants", headers=fleet["headers"])
    assert page.status_code == 200
    expected = Counter(r["tenant"] for r in fleet["resources"] if r["service"] == "storage")
    assert f"{len(expected):,} tenants" in page.text
    top_key, top_count = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    first_row = page.text.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f"<code>{top_key}</code>" in first_row and f">{top_count}<" in first_row
    assert body["tenants"] == len(expected)
    beyond = await client.get(f"/cases/{case_id}/tenants?page=999", headers=fleet["headers"])
    assert "No tenant has a resource" in beyond.text
